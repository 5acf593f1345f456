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
