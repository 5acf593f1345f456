-- Enterprises per tier in tier month $month, the reference month $reference and the month before $previous
-- (分类结构), for the tier-mix shift.
SELECT month, tier, count(*) AS enterprises
FROM tiers.enterprise_monthly
WHERE month IN ($month, $reference, $previous)
GROUP BY month, tier
ORDER BY month, tier;
