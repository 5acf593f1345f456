-- Administrative penalties (行政处罚): typed, normalised and judged, one delivery at a time.
CREATE SCHEMA IF NOT EXISTS staging;
CREATE TABLE IF NOT EXISTS staging.penalties (
    case_no         VARCHAR NOT NULL,   -- 决定书文号, unique across deliveries
    uscc            VARCHAR NOT NULL,
    decided_on      DATE NOT NULL,
    violation_type  VARCHAR NOT NULL,
    amount          DECIMAL(18, 2),     -- 元
    severity        VARCHAR,            -- 一般 | 较重 | 严重
    _delivery_month DATE NOT NULL,
    _source_file    VARCHAR NOT NULL,
    _file_sha256    VARCHAR NOT NULL,
    _row_number     BIGINT NOT NULL,
    _line_number    BIGINT
);
COMMENT ON TABLE staging.penalties IS 'Administrative penalty decisions, typed and validated (行政处罚)';

-- name: typed
-- One delivery ($month) typed, normalised and judged, the first problem of a row deciding its reason, into
-- _typed (quarantine.rows.sql#judge_duplicates and #split take it on).
CREATE OR REPLACE TEMP TABLE _typed AS
SELECT
    zs_text(r.case_no) AS case_no,
    zs_code(r.uscc) AS uscc,
    zs_date(r.decided_on) AS decided_on,
    zs_text(r.violation_type) AS violation_type,
    zs_decimal(r.amount) AS amount,
    zs_text(r.severity) AS severity,
    r._delivery_month, r._source_file, r._file_sha256, r._row_number, r._line_number,
    zs_text(r.case_no) AS _key,
    zs_first_problem([
        zs_chk_malformed(r._raw_line),
        zs_chk_required('case_no', r.case_no),
        zs_chk_uscc('uscc', r.uscc, true),
        zs_chk_date('decided_on', r.decided_on, true, $month_end),
        zs_chk_required('violation_type', r.violation_type),
        zs_chk_decimal('amount', r.amount, false),
        zs_chk_enum('severity', r.severity, zs_text(r.severity), false, ['一般', '较重', '严重'])
    ]) AS _problem
FROM raw.penalties r
WHERE r._delivery_month = $month;
