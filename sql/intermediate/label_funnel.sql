-- Where the random inspections as of $month go (标签漏斗): how many have a plan with a known π, and how many
-- also have features of the month before (the first month, out-of-scope entity types and firms founded that
-- month have none). Mirrors the joins of intermediate/labels.sql so every random inspection is accounted for.
WITH random_inspections AS (
    SELECT task_id, uscc, plan_id, date_trunc('month', inspected_on)::DATE AS inspection_month
    FROM staging.inspections
    WHERE trigger = 'random' AND _delivery_month <= $month
      AND inspected_on BETWEEN $first_month AND $month_end
), joined AS (
    SELECT
        p.plan_id IS NOT NULL AS has_pi,
        EXISTS (
            SELECT 1 FROM features.enterprise_monthly f
            WHERE f.uscc = r.uscc AND f.month = (r.inspection_month - INTERVAL 1 MONTH)::DATE
        ) AS has_features
    FROM random_inspections r
    LEFT JOIN zs_random_plans($month) p ON p.plan_id = r.plan_id  -- intermediate/random_plans.sql
)
SELECT
    count(*) AS random_inspections,
    count(*) FILTER (WHERE NOT has_pi) AS without_plan_pi,
    count(*) FILTER (WHERE has_pi AND NOT has_features) AS without_prior_features,
    count(*) FILTER (WHERE has_pi AND has_features) AS labels
FROM joined;
