-- Complaints and reports (投诉举报): typed, normalised and judged, one delivery at a time.
CREATE SCHEMA IF NOT EXISTS staging;
CREATE TABLE IF NOT EXISTS staging.complaints (
    complaint_id    VARCHAR NOT NULL,   -- 工单编号, unique across deliveries
    uscc            VARCHAR NOT NULL,
    received_on     DATE NOT NULL,
    channel         VARCHAR,            -- 12315 | 12345 | 来信 | 来访
    category        VARCHAR,
    substantiated   BOOLEAN,
    _delivery_month DATE NOT NULL,
    _source_file    VARCHAR NOT NULL,
    _file_sha256    VARCHAR NOT NULL,
    _row_number     BIGINT NOT NULL,
    _line_number    BIGINT
);
COMMENT ON TABLE staging.complaints IS 'Complaints and reports, typed and validated (投诉举报)';

-- name: typed
-- One delivery ($month) typed, normalised and judged, the first problem of a row deciding its reason, into
-- _typed (quarantine.rows.sql#judge_duplicates and #split take it on).
CREATE OR REPLACE TEMP TABLE _typed AS
SELECT
    zs_text(r.complaint_id) AS complaint_id,
    zs_code(r.uscc) AS uscc,
    zs_date(r.received_on) AS received_on,
    zs_text(r.channel) AS channel,
    zs_text(r.category) AS category,
    zs_bool(r.substantiated) AS substantiated,
    r._delivery_month, r._source_file, r._file_sha256, r._row_number, r._line_number,
    zs_text(r.complaint_id) AS _key,
    zs_first_problem([
        zs_chk_malformed(r._raw_line),
        zs_chk_required('complaint_id', r.complaint_id),
        zs_chk_uscc('uscc', r.uscc, true),
        zs_chk_date('received_on', r.received_on, true, $month_end),
        zs_chk_enum('channel', r.channel, zs_text(r.channel), false, ['12315', '12345', '来信', '来访']),
        zs_chk_bool('substantiated', r.substantiated, false)
    ]) AS _problem
FROM raw.complaints r
WHERE r._delivery_month = $month;
