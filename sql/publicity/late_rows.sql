-- Results of month $month published after their 20-working-day deadline (超期公示), oldest first.
SELECT task_id, uscc, inspected_on, deadline, published_on, working_days_taken, deadline_basis
FROM publicity.inspection_results
WHERE month = $month AND late
ORDER BY inspected_on, task_id;
