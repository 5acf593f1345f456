-- Warnings of month $month by the tier of the warned enterprise: enterprises warned and warnings.
SELECT tier, count(DISTINCT uscc), count(*)
FROM monitoring.early_warnings WHERE month = $month
GROUP BY tier ORDER BY tier;
