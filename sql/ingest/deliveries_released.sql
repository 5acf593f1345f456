-- The month's latest release by an operator (the missing sources it released, the reason, when).
SELECT missing, release_reason, checked_at
FROM audit.deliveries
WHERE month = $month AND released
ORDER BY checked_at DESC, seq DESC
LIMIT 1;
