-- Declared conflicts of interest (回避关系) between inspectors and enterprises.
CREATE SCHEMA IF NOT EXISTS staging;
CREATE TABLE IF NOT EXISTS staging.conflicts (
    inspector_id    VARCHAR NOT NULL,
    uscc            VARCHAR NOT NULL,
    reason          VARCHAR,
    declared_on     DATE NOT NULL,
    _delivery_month DATE NOT NULL,
    _source_file    VARCHAR NOT NULL,
    _file_sha256    VARCHAR NOT NULL,
    _row_number     BIGINT NOT NULL,
    _line_number    BIGINT
);
COMMENT ON TABLE staging.conflicts IS 'Declared inspector conflicts of interest, typed and validated (回避关系)';

-- name: typed
-- One delivery ($month) typed, normalised and judged, the first problem of a row deciding its reason, into
-- _typed (quarantine.rows.sql#judge_duplicates and #split take it on).
CREATE OR REPLACE TEMP TABLE _typed AS
SELECT
    zs_text(r.inspector_id) AS inspector_id,
    zs_code(r.uscc) AS uscc,
    zs_text(r.reason) AS reason,
    zs_date(r.declared_on) AS declared_on,
    r._delivery_month, r._source_file, r._file_sha256, r._row_number, r._line_number,
    zs_text(r.inspector_id) || '|' || zs_code(r.uscc) AS _key,
    zs_first_problem([
        zs_chk_malformed(r._raw_line),
        zs_chk_required('inspector_id', r.inspector_id),
        zs_chk_uscc('uscc', r.uscc, true),
        zs_chk_date('declared_on', r.declared_on, true, $month_end)
    ]) AS _problem
FROM raw.conflicts r
WHERE r._delivery_month = $month;
