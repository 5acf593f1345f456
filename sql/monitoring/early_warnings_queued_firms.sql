-- Enterprises of month $month with at least one warning that feeds the trigger queue.
SELECT count(DISTINCT uscc) FROM monitoring.early_warnings WHERE month = $month AND to_trigger_queue;
