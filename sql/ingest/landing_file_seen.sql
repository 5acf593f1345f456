-- Was a file with these bytes already ingested under another source or month?
SELECT source, strftime(delivery_month, '%Y-%m') AS month, file
FROM raw.landing_files
WHERE sha256 = $sha256 AND status = 'ingested' AND NOT (source = $source AND delivery_month = $month)
ORDER BY delivery_month, source, file
LIMIT 1;
