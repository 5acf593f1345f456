-- What each source delivered for month $month (月度交付情况): readable files and their rows, and rejected files.
-- A file with the same bytes as the source's delivery of an earlier month (repeated_delivery: an unchanged
-- snapshot, another month without rows) is a delivery too, with the rows of the file it repeats: the source did
-- report, and nothing changed.
WITH this_month AS (
    SELECT f.source, CASE WHEN f.error_code = 'repeated_delivery' THEN 'repeated' ELSE f.status END AS status,
        f.rows_read, f.sha256
    FROM raw.landing_files f
    WHERE f.delivery_month = $month
), repeated AS (
    SELECT sha256, max(rows_read) AS rows_read FROM raw.landing_files WHERE status = 'ingested' GROUP BY sha256
)
SELECT
    m.source,
    count(*) FILTER (WHERE m.status IN ('ingested', 'repeated')) AS files,
    coalesce(sum(CASE m.status WHEN 'ingested' THEN m.rows_read WHEN 'repeated' THEN r.rows_read END), 0) AS rows,
    count(*) FILTER (WHERE m.status NOT IN ('ingested', 'repeated')) AS rejected
FROM this_month m
LEFT JOIN repeated r ON r.sha256 = m.sha256
GROUP BY m.source
ORDER BY m.source;
