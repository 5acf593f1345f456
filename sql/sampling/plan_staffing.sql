-- How one plan's tasks stand now (after amendments): with a full inspector pair or not, and why not.
SELECT inspector_1 IS NOT NULL AND inspector_2 IS NOT NULL AS full_pair, coalesce(unassigned_reason, '') AS reason,
    count(*) AS tasks
FROM sampling.plan
WHERE plan_id = $plan_id
GROUP BY ALL
ORDER BY ALL;
