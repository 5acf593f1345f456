-- Every task has two distinct inspectors or, without a full pair, the reason (每项任务两名不同检查人员或注明原因):
-- none at the draw, or one left by an amendment nobody could fill; and no inspector carries more tasks of a
-- plan than its workload cap ($plan_ids / $caps of the month's plans), amendments included.
WITH caps AS (
    SELECT unnest($plan_ids) AS plan_id, unnest($caps) AS workload_cap
), bad_tasks AS (
    SELECT plan_id, uscc, 'pair' AS problem,
           coalesce(inspector_1, '∅') || ' / ' || coalesce(inspector_2, '∅') || ' / ' || coalesce(unassigned_reason, '∅')
               AS detail
    FROM sampling.plan
    WHERE month = $month AND NOT (
        (inspector_1 IS NOT NULL AND inspector_2 IS NOT NULL AND inspector_1 <> inspector_2 AND unassigned_reason IS NULL)
        OR ((inspector_1 IS NULL OR inspector_2 IS NULL) AND unassigned_reason IS NOT NULL))
), loads AS (
    SELECT p.plan_id, i.inspector_id, count(*) AS tasks, any_value(c.workload_cap) AS workload_cap
    FROM sampling.plan p
    CROSS JOIN LATERAL (SELECT unnest([p.inspector_1, p.inspector_2]) AS inspector_id) i
    JOIN caps c ON c.plan_id = p.plan_id
    WHERE p.month = $month AND i.inspector_id IS NOT NULL
    GROUP BY ALL
)
SELECT plan_id, uscc, problem, detail FROM bad_tasks
UNION ALL
SELECT plan_id, inspector_id, 'workload', tasks || ' tasks > cap ' || workload_cap FROM loads WHERE tasks > workload_cap
ORDER BY 1, 2;
