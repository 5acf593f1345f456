-- The latest check of a month's expected deliveries.
SELECT missing, released, release_reason
FROM audit.deliveries
WHERE month = $month
ORDER BY checked_at DESC, seq DESC
LIMIT 1;
