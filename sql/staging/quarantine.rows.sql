-- quarantine.rows (隔离区): rows rejected at ingest, with reason code and message. Every judged row of a delivery
-- goes to exactly one place, its staging table or here: the source's typed rows (_typed, from
-- staging/staging.<source>.sql#typed) are judged for duplicates into _judged, then split.
CREATE SCHEMA IF NOT EXISTS quarantine;

CREATE TABLE IF NOT EXISTS quarantine.rows (
    source          VARCHAR NOT NULL,
    delivery_month  DATE NOT NULL,
    source_file     VARCHAR NOT NULL,
    file_sha256     VARCHAR NOT NULL,
    row_number      BIGINT NOT NULL,    -- 1-based data row, header excluded
    line_number     BIGINT,             -- 1-based line in the file, when known
    reason_code     VARCHAR NOT NULL,
    column_name     VARCHAR NOT NULL,
    message         VARCHAR NOT NULL,
    raw_row         JSON NOT NULL       -- the row exactly as landed in raw (personal IDs already hashed)
);
COMMENT ON TABLE quarantine.rows IS 'Rows rejected at ingest, with reason code and message (隔离区)';

-- name: judge_duplicates
-- A key that repeats within one delivery: the first row stands, later ones go to quarantine.
-- Runs on _typed (built by the source's staging file), producing _judged.
CREATE OR REPLACE TEMP TABLE _judged AS
SELECT * EXCLUDE (_key, _first) REPLACE (
    coalesce(_problem, CASE WHEN _first IS NOT NULL THEN zs_problem('duplicate_key', $key_columns,
        'repeats the key (' || $key_columns || ') of ' || _first, _key) END) AS _problem)
FROM (
    SELECT
        *,
        CASE WHEN _problem IS NULL AND row_number() OVER w > 1
            THEN first_value(_source_file || ' row ' || _row_number) OVER w END AS _first
    FROM _typed
    WINDOW w AS (PARTITION BY _problem IS NULL, _key ORDER BY _source_file, _row_number)
);

-- name: judge_redelivered
-- For case numbers and work orders: a key already staged from an earlier delivery is a duplicate too.
UPDATE _judged j
SET _problem = zs_problem('duplicate_key', $key_columns,
    'already delivered in ' || strftime(s._delivery_month, '%Y-%m') || ' (' || s._source_file || ')', j.{key})
FROM (
    SELECT {key}, min(_delivery_month) AS _delivery_month,
        arg_min(_source_file, _delivery_month) AS _source_file
    FROM staging.{source}
    WHERE _delivery_month < $month
    GROUP BY {key}
) s
WHERE j._problem IS NULL AND j.{key} = s.{key};

-- name: split
-- Every judged row goes to exactly one place: staging.{source} or quarantine.rows (标准层 / 隔离区).
DELETE FROM staging.{source} WHERE _delivery_month = $month;
INSERT INTO staging.{source} BY NAME
SELECT * EXCLUDE (_problem) FROM _judged WHERE _problem IS NULL;
DELETE FROM quarantine.rows WHERE source = $source AND delivery_month = $month;
INSERT INTO quarantine.rows
SELECT
    $source,
    j._delivery_month,
    j._source_file,
    j._file_sha256,
    j._row_number,
    nullif(j._line_number, -1),
    j._problem.reason,
    j._problem.column,
    j._source_file || ': data row ' || j._row_number
        || coalesce(' (line ' || nullif(j._line_number, -1) || ')', '')
        || ', column ' || j._problem.column || ': ' || j._problem.detail
        || coalesce(' [value: "' || j._problem.value || '"]', ' [value: empty]'),
    to_json(r)
FROM _judged j
JOIN raw.{source} r
    ON r._delivery_month = j._delivery_month AND r._source_file = j._source_file AND r._row_number = j._row_number
WHERE j._problem IS NOT NULL;

-- name: summary
-- Quarantined rows of one delivery by reason and column, with one example message each.
SELECT reason_code, column_name, count(*) AS rows, min(message) AS example
FROM quarantine.rows
WHERE source = $source AND delivery_month = $month
GROUP BY ALL
ORDER BY rows DESC, reason_code, column_name;

-- name: reasons
-- Quarantined rows of every delivery by reason (for the demo summary).
SELECT reason_code, count(*) AS n FROM quarantine.rows GROUP BY ALL ORDER BY n DESC, reason_code;
