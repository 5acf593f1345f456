-- The latest results for tier month $month (最新抽查结果): random (双随机) inspections delivered from
-- $window_start to $month and dated by $month_end, each with π of the random plan that drew it (plans delivered
-- by $month; NULL when unknown: such a result cannot be weighted) and the tier its enterprise held in the month
-- before the inspection (NULL when it was not tiered then), as in sql/tiers/outcomes_by_tier.sql. Triggered and
-- special inspections are chosen for risk, not at random: they never enter. Ordered, so the weighted sums
-- computed from these rows are the same on every run.
WITH random_plans AS (
    SELECT plan_id, inclusion_probability AS pi
    FROM staging.plans
    WHERE kind = 'random' AND _delivery_month <= $month
      AND inclusion_probability > 0 AND inclusion_probability <= 1
)
SELECT
    i.task_id,
    t.tier,
    p.pi,
    i.problem_found::INTEGER AS problem_found
FROM staging.inspections i
LEFT JOIN random_plans p ON p.plan_id = i.plan_id
LEFT JOIN tiers.enterprise_monthly t
    ON t.uscc = i.uscc AND t.month = (date_trunc('month', i.inspected_on) - INTERVAL 1 MONTH)::DATE
WHERE i.trigger = 'random'
  AND i._delivery_month BETWEEN $window_start AND $month
  AND i.inspected_on <= $month_end
ORDER BY i.task_id;
