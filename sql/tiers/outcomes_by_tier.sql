-- Problem-found rate by tier, out of time (分类与后续抽查结果): every random (双随机) inspection is matched with
-- the tier its enterprise held in the month before, and weighted 1/π of its plan, so the rate describes the
-- tier's whole population, not the sample. This is how the tiers of one month predicted the next month's
-- inspection findings.
SELECT
    t.tier,
    count(*) AS inspections,
    sum(i.problem_found::INTEGER) AS problems_found,
    sum(i.problem_found::INTEGER / p.inclusion_probability) / sum(1.0 / p.inclusion_probability) AS weighted_rate
FROM staging.inspections i
JOIN staging.plans p ON p.plan_id = i.plan_id AND p.kind = 'random' AND p.inclusion_probability > 0
JOIN tiers.enterprise_monthly t
    ON t.uscc = i.uscc AND t.month = (date_trunc('month', i.inspected_on) - INTERVAL 1 MONTH)::DATE
WHERE i.trigger = 'random'
GROUP BY t.tier
ORDER BY t.tier;
