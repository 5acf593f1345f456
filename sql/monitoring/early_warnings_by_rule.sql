-- Warnings of month $month by rule and severity, with how many feed the trigger queue.
SELECT rule, severity, count(*), count(*) FILTER (WHERE to_trigger_queue)
FROM monitoring.early_warnings WHERE month = $month
GROUP BY rule, severity ORDER BY rule, severity;
