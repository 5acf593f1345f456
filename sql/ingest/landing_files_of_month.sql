-- The fate of every landing file of one delivery.
SELECT file, sha256, status, rows_read, format, encoding, error_code, error_message
FROM raw.landing_files
WHERE source = $source AND delivery_month = $month
ORDER BY file;
