-- Training labels (训练标签) as of $month: random (双随机) inspections delivered by $month and dated from
-- $first_month to $month_end. Label 1 when a problem was found; weight 1/π, π being the inclusion probability
-- of the plan that drew the enterprise; features of the month before the inspection (what was known then).
-- Triggered and special inspections are chosen for risk, not at random: they never become labels.
WITH random_inspections AS (
    SELECT task_id, uscc, plan_id, problem_found, date_trunc('month', inspected_on)::DATE AS inspection_month,
        _delivery_month AS delivered_month
    FROM staging.inspections
    WHERE trigger = 'random' AND _delivery_month <= $month
      AND inspected_on BETWEEN $first_month AND $month_end
)
SELECT
    r.task_id,
    r.plan_id,
    r.inspection_month,
    r.delivered_month,   -- when the result reached the pipeline: counts the labels new since the last training
    p.pi,
    1.0 / p.pi AS weight,
    r.problem_found::INTEGER AS label,
    f.*
FROM random_inspections r
JOIN zs_random_plans($month) p ON p.plan_id = r.plan_id  -- intermediate/random_plans.sql
JOIN features.enterprise_monthly f
    ON f.uscc = r.uscc AND f.month = (r.inspection_month - INTERVAL 1 MONTH)::DATE
ORDER BY r.inspection_month, r.uscc, r.task_id;
