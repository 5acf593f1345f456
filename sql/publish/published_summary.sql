-- What the mart holds: per table, the months published and the rows of the latest month.
SELECT mart_table, count(DISTINCT month) AS months, strftime(min(month), '%Y-%m'), strftime(max(month), '%Y-%m'),
    arg_max(rows, strftime(month, '%Y%m') || lpad(seq::VARCHAR, 12, '0')) AS latest_rows
FROM audit.publish_log
GROUP BY ALL
ORDER BY mart_table;
