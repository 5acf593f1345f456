-- Results of month $month published after their 20-working-day deadline (超期公示), oldest first, with the day
-- the source entered them and the batch that published them: published on arrival, they came late.
SELECT task_id, uscc, inspected_on, deadline, recorded_on, published_on, batch_id, working_days_taken, deadline_basis
FROM publicity.inspection_results
WHERE month = $month AND late
ORDER BY inspected_on, task_id;
