-- What each source delivered for month $month (月度交付情况): readable files and their rows, and rejected files.
-- A file with the same bytes as one ingested before (duplicate_file: an unchanged snapshot delivered again)
-- is a delivery too, with the rows of the file it repeats: the source did report, and nothing changed.
WITH this_month AS (
    SELECT f.source, f.status, f.rows_read, f.sha256
    FROM raw.landing_files f
    WHERE f.delivery_month = $month
), repeated AS (
    SELECT sha256, max(rows_read) AS rows_read FROM raw.landing_files WHERE status = 'ingested' GROUP BY sha256
)
SELECT
    m.source,
    count(*) FILTER (WHERE m.status IN ('ingested', 'duplicate_file')) AS files,
    coalesce(sum(CASE m.status WHEN 'ingested' THEN m.rows_read WHEN 'duplicate_file' THEN r.rows_read END), 0)
        AS rows,
    count(*) FILTER (WHERE m.status NOT IN ('ingested', 'duplicate_file')) AS rejected
FROM this_month m
LEFT JOIN repeated r ON r.sha256 = m.sha256
GROUP BY m.source
ORDER BY m.source;
