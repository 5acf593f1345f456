-- Was a file with these bytes already ingested for this source in another month? Identity is per source: two
-- sources with the same columns send the same bytes when both have nothing to report (a header-only file).
SELECT source, strftime(delivery_month, '%Y-%m') AS month, file
FROM raw.landing_files
WHERE sha256 = $sha256 AND status = 'ingested' AND source = $source AND delivery_month <> $month
ORDER BY delivery_month, source, file
LIMIT 1;
