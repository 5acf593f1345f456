-- raw.landing_files (落地文件登记): every landing file seen, with its SHA-256 and fate, one row per file and
-- delivery; a delivery landed again is forgotten first (lib/core/sql.py delete_month), then logged file by file.
CREATE SCHEMA IF NOT EXISTS raw;

CREATE TABLE IF NOT EXISTS raw.landing_files (
    source          VARCHAR NOT NULL,
    delivery_month  DATE NOT NULL,
    file            VARCHAR NOT NULL,   -- path below landing/
    sha256          VARCHAR NOT NULL,   -- identity of the file: the same bytes are never ingested twice
    size_bytes      BIGINT NOT NULL,
    format          VARCHAR,
    encoding        VARCHAR,
    status          VARCHAR NOT NULL,   -- ingested | rejected | duplicate_file
    error_code      VARCHAR,
    error_message   VARCHAR,
    rows_read       BIGINT NOT NULL,
    ingested_at     TIMESTAMP NOT NULL
);
COMMENT ON TABLE raw.landing_files IS 'Every landing file seen, with its SHA-256 and fate (落地文件登记)';

-- name: log
-- One landing file of the delivery and its fate.
INSERT INTO raw.landing_files VALUES (
    $source, $month::DATE, $file, $sha256, $size_bytes, $format, $encoding, $status,
    $error_code, $error_message, $rows_read, $ingested_at::TIMESTAMP
);

-- name: seen
-- Was a file with these bytes already ingested for this source in another month? Identity is per source: two
-- sources with the same columns send the same bytes when both have nothing to report (a header-only file).
SELECT source, strftime(delivery_month, '%Y-%m') AS month, file
FROM raw.landing_files
WHERE sha256 = $sha256 AND status = 'ingested' AND source = $source AND delivery_month <> $month
ORDER BY delivery_month, source, file
LIMIT 1;

-- name: files_of_month
-- The fate of every landing file of one delivery.
SELECT file, sha256, status, rows_read, format, encoding, error_code, error_message
FROM raw.landing_files
WHERE source = $source AND delivery_month = $month
ORDER BY file;

-- name: deliveries_of_month
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
