-- What the drawn plans of tier month $month must hold (lib/sampling/plan_audit.py): each section lists the
-- violations of one audit.

-- name: sample_sizes
-- Achieved sample per stratum against the protocol's n_h (抽取数量核对), for the plans drawn from tier month
-- $month: every stratum of the frame must have exactly sample_size enterprises in sampling.plan.
WITH expected AS (
    SELECT DISTINCT plan_id, stratum, sample_size FROM sampling.frame WHERE month = $month
), achieved AS (
    SELECT plan_id, stratum, count(*) AS drawn FROM sampling.plan WHERE month = $month GROUP BY ALL
)
SELECT coalesce(e.plan_id, a.plan_id) AS plan_id, coalesce(e.stratum, a.stratum) AS stratum,
       coalesce(e.sample_size, 0) AS expected, coalesce(a.drawn, 0) AS drawn
FROM expected e
FULL JOIN achieved a ON a.plan_id = e.plan_id AND a.stratum = e.stratum
WHERE coalesce(e.sample_size, 0) <> coalesce(a.drawn, 0)
ORDER BY 1, 2;

-- name: no_repeat
-- No enterprise twice in a plan, nor drawn twice for the same plan prefix within a calendar year
-- (同一计划年度内不重复抽取), for the plans drawn from tier month $month.
WITH drawn AS (
    SELECT plan_id, uscc, regexp_extract(plan_id, '^(.*)-(\d{4})-\d{2}$', 1) AS prefix,
           regexp_extract(plan_id, '^(.*)-(\d{4})-\d{2}$', 2) AS year
    FROM sampling.plan
), this_month AS (
    SELECT DISTINCT plan_id FROM sampling.plan WHERE month = $month
)
SELECT d.prefix, d.year, d.uscc, list(d.plan_id ORDER BY d.plan_id) AS plans
FROM drawn d
WHERE d.prefix || '-' || d.year IN (
    SELECT regexp_extract(plan_id, '^(.*-\d{4})-\d{2}$', 1) FROM this_month
)
GROUP BY ALL
HAVING count(*) > 1
ORDER BY 1, 2, 3;

-- name: pairs
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
