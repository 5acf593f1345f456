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
