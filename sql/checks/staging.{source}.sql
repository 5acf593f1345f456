-- Per file of one delivery: rows landed in raw = rows staged + rows quarantined (逐文件对账).
WITH r AS (
    SELECT _source_file AS file, count(*) AS n FROM raw.{source} WHERE _delivery_month = $month GROUP BY ALL
), s AS (
    SELECT _source_file AS file, count(*) AS n FROM staging.{source} WHERE _delivery_month = $month GROUP BY ALL
), q AS (
    SELECT source_file AS file, count(*) AS n FROM quarantine.rows
    WHERE source = $source AND delivery_month = $month GROUP BY ALL
)
SELECT
    f.file, f.status, f.rows_read,
    coalesce(r.n, 0) AS raw_rows,
    coalesce(s.n, 0) AS staged_rows,
    coalesce(q.n, 0) AS quarantined_rows
FROM raw.landing_files f
LEFT JOIN r ON r.file = f.file
LEFT JOIN s ON s.file = f.file
LEFT JOIN q ON q.file = f.file
WHERE f.source = $source AND f.delivery_month = $month
ORDER BY f.file;
