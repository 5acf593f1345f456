-- The (task, inspector) pairs one plan assigns now, both slots.
SELECT p.uscc, i.inspector_id
FROM sampling.plan p
CROSS JOIN LATERAL (SELECT unnest([p.inspector_1, p.inspector_2]) AS inspector_id) i
WHERE p.plan_id = $plan_id AND i.inspector_id IS NOT NULL
ORDER BY 1, 2;
