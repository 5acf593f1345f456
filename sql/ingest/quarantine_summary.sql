-- Quarantined rows of one delivery by reason and column, with one example message each.
SELECT reason_code, column_name, count(*) AS rows, min(message) AS example
FROM quarantine.rows
WHERE source = $source AND delivery_month = $month
GROUP BY ALL
ORDER BY rows DESC, reason_code, column_name;
