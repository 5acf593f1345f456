-- Assigned inspectors that the constraints do not allow for the task (检查人员资格复核): every assigned
-- (uscc, inspector) of the plan must be among the eligible pairs recomputed now (_recheck_eligible).
SELECT p.plan_id, p.uscc, i.inspector_id
FROM sampling.plan p
CROSS JOIN LATERAL (SELECT unnest([p.inspector_1, p.inspector_2]) AS inspector_id) i
WHERE p.plan_id = $plan_id AND i.inspector_id IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM _recheck_eligible e WHERE e.uscc = p.uscc AND e.inspector_id = i.inspector_id)
ORDER BY 2, 3;
