-- monitoring.model_monitoring (模型监测结果): per tier month M, the score and key-indicator PSI against a reference
-- month, the tier-mix shift, the problem-found rate by tier of the latest random inspections and the ordering
-- verdict, one row per measure in computed order. Computed in lib/monitoring/ from the inputs below (#scores,
-- #indicators, #tier_mix, #tiered_months, #latest_results), then the month is replaced.
CREATE SCHEMA IF NOT EXISTS monitoring;
CREATE TABLE IF NOT EXISTS monitoring.model_monitoring (
    month           DATE NOT NULL,      -- the tier month M monitored
    seq             INTEGER NOT NULL,   -- row order within the month
    metric          VARCHAR NOT NULL,   -- score_psi | score_psi_stratum | indicator_psi | tier_mix_psi | tier_share | problem_rate | tier_order | tier_order_verdict
    subject         VARCHAR NOT NULL,   -- what was measured: the score column, a stratum, an indicator, a tier, a pair of tiers
    value           DOUBLE,             -- PSI, share, weighted rate, z of an inversion, 1/0 for the verdict
    threshold       DOUBLE,             -- the value at which the status turns significant / inversion
    status          VARCHAR NOT NULL,   -- stable | moderate | significant | reported | too_few | rises | not_significant | inversion | pass | fail
    n               BIGINT,             -- current month's enterprises, or inspections for rates
    n_reference     BIGINT,             -- reference side's enterprises
    reference_month DATE,               -- the month compared with
    detail          JSON                -- critical values, bins, standard errors, share changes, notes
);
COMMENT ON TABLE monitoring.model_monitoring IS 'Monthly model monitoring: PSI of the score and key indicators against a reference month (sample-size-aware thresholds for small strata), tier-mix shift, problem-found rate by tier of the latest random inspections weighted 1/π, and the tier-ordering verdict; internal, holds tiers (模型监测：分值与指标稳定性、分类结构变化、分类别问题发现率与排序判定，内部)';

-- name: replace_month
-- Replace month $month with the rows registered as _model_monitoring_rows, in their computed order; the
-- caller wraps this in one transaction.
DELETE FROM monitoring.model_monitoring WHERE month = $month;
INSERT INTO monitoring.model_monitoring BY NAME
SELECT * FROM _model_monitoring_rows ORDER BY month, seq;
SELECT count(*) FROM monitoring.model_monitoring WHERE month = $month;

-- name: month_rows
-- The stored model monitoring of tier month $month (模型监测结果), in its row order.
SELECT month, seq, metric, subject, value, threshold, status, n, n_reference, reference_month, detail
FROM monitoring.model_monitoring
WHERE month = $month
ORDER BY seq;

-- name: scores
-- Scores of tier month $month and of the reference month $reference (模型监测：分值分布), one row per enterprise
-- and side, with the strata of the small-stratum PSI: the town (镇街) of the enterprise in that month and the
-- tier it held in the reference month (NULL when it was not tiered then). Written as two branches so that
-- $month = $reference still gives both sides. No ORDER BY: the PSI only counts values per bin.
SELECT TRUE AS is_current, t.{score_column} AS value, f.town_no, r.tier AS reference_tier
FROM tiers.enterprise_monthly t
LEFT JOIN features.enterprise_monthly f ON f.month = t.month AND f.uscc = t.uscc
LEFT JOIN tiers.enterprise_monthly r ON r.month = $reference AND r.uscc = t.uscc
WHERE t.month = $month
UNION ALL
SELECT FALSE, t.{score_column}, f.town_no, t.tier
FROM tiers.enterprise_monthly t
LEFT JOIN features.enterprise_monthly f ON f.month = t.month AND f.uscc = t.uscc
WHERE t.month = $reference;

-- name: indicators
-- Key indicators of month $month and of the reference month $reference (模型监测：关键指标分布), the columns
-- named in $columns (validated against the indicator catalogue when the policy is loaded). Two branches so that
-- $month = $reference still gives both sides. No ORDER BY: the PSI only counts values per bin.
SELECT TRUE AS is_current, COLUMNS(lambda c: list_contains($columns, c))
FROM features.enterprise_monthly
WHERE month = $month
UNION ALL
SELECT FALSE, COLUMNS(lambda c: list_contains($columns, c))
FROM features.enterprise_monthly
WHERE month = $reference;

-- name: tier_mix
-- Enterprises per tier in tier month $month, the reference month $reference and the month before $previous
-- (分类结构), for the tier-mix shift.
SELECT month, tier, count(*) AS enterprises
FROM tiers.enterprise_monthly
WHERE month IN ($month, $reference, $previous)
GROUP BY month, tier
ORDER BY month, tier;

-- name: tiered_months
-- Months tiered up to $month with the model version that tiered each (已分类月份及其模型版本): the reference
-- month of the model monitoring is chosen from these.
SELECT month, min(model_version) AS model_version, count(*) AS enterprises
FROM tiers.enterprise_monthly
WHERE month <= $month
GROUP BY month
ORDER BY month;

-- name: latest_results
-- The latest results for tier month $month (最新抽查结果): random (双随机) inspections delivered from
-- $window_start to $month and dated by $month_end, each with π of the random plan that drew it (plans delivered
-- by $month; NULL when unknown: such a result cannot be weighted) and the tier its enterprise held in the month
-- before the inspection (NULL when it was not tiered then), as in tiers.enterprise_monthly.sql#outcomes_by_tier.
-- Triggered and special inspections are chosen for risk, not at random: they never enter. Ordered, so the
-- weighted sums computed from these rows are the same on every run.
SELECT
    i.task_id,
    t.tier,
    p.pi,
    i.problem_found::INTEGER AS problem_found
FROM staging.inspections i
LEFT JOIN zs_random_plans($month) p ON p.plan_id = i.plan_id  -- intermediate/random_plans.sql
LEFT JOIN tiers.enterprise_monthly t
    ON t.uscc = i.uscc AND t.month = (date_trunc('month', i.inspected_on) - INTERVAL 1 MONTH)::DATE
WHERE i.trigger = 'random'
  AND i._delivery_month BETWEEN $window_start AND $month
  AND i.inspected_on <= $month_end
ORDER BY i.task_id;
