-- Serious illegal and dishonest list (严重违法失信名单): listings (in, 列入) and removals (out, 移出), one delivery at a time.
CREATE SCHEMA IF NOT EXISTS staging;
CREATE TABLE IF NOT EXISTS staging.dishonest_list (
    uscc            VARCHAR NOT NULL,
    action          VARCHAR NOT NULL,   -- in | out
    reason_code     VARCHAR NOT NULL,
    decided_on      DATE NOT NULL,
    authority       VARCHAR,
    _delivery_month DATE NOT NULL,
    _source_file    VARCHAR NOT NULL,
    _file_sha256    VARCHAR NOT NULL,
    _row_number     BIGINT NOT NULL,
    _line_number    BIGINT
);
COMMENT ON TABLE staging.dishonest_list IS 'Serious illegal and dishonest list entries and removals, typed and validated (严重违法失信名单)';

-- name: typed
-- One delivery ($month) typed, normalised and judged, the first problem of a row deciding its reason, into
-- _typed (quarantine.rows.sql#judge_duplicates and #split take it on).
CREATE OR REPLACE TEMP TABLE _typed AS
SELECT
    zs_code(r.uscc) AS uscc,
    zs_list_action(r.action) AS action,
    lower(zs_text(r.reason_code)) AS reason_code,
    zs_date(r.decided_on) AS decided_on,
    zs_text(r.authority) AS authority,
    r._delivery_month, r._source_file, r._file_sha256, r._row_number, r._line_number,
    concat_ws('|', zs_code(r.uscc), lower(zs_text(r.action)), lower(zs_text(r.reason_code)),
        zs_date(r.decided_on)) AS _key,
    zs_first_problem([
        zs_chk_malformed(r._raw_line),
        zs_chk_uscc('uscc', r.uscc, true),
        zs_chk_enum('action', r.action, zs_list_action(r.action), true, ['in', 'out']),
        zs_chk_required('reason_code', r.reason_code),
        zs_chk_date('decided_on', r.decided_on, true, $month_end)
    ]) AS _problem
FROM raw.dishonest_list r
WHERE r._delivery_month = $month;
