-- What the mart holds: per table, the months published, the rows of the latest month, and how many months were
-- re-published as a later version (the earlier versions are kept).
SELECT mart_table, count(DISTINCT month) AS months, strftime(min(month), '%Y-%m'), strftime(max(month), '%Y-%m'),
    arg_max(rows, strftime(month, '%Y%m') || lpad(seq::VARCHAR, 12, '0')) AS latest_rows,
    count(DISTINCT month) FILTER (WHERE version > 1) AS republished_months
FROM audit.publish_log
GROUP BY ALL
ORDER BY mart_table;
