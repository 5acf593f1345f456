-- The operator's release of a month whose expected sources had not delivered (audit.deliveries), when the
-- month's latest delivery check was released rather than complete.
SELECT missing, release_reason, checked_at
FROM audit.deliveries
WHERE month = $month
QUALIFY row_number() OVER (ORDER BY checked_at DESC, seq DESC) = 1 AND released;
