-- Administrative licences (行政许可) by professional domain; a later delivery of a licence is a new version.
CREATE SCHEMA IF NOT EXISTS staging;
CREATE TABLE IF NOT EXISTS staging.licenses (
    license_no      VARCHAR NOT NULL,
    uscc            VARCHAR NOT NULL,
    domain          VARCHAR NOT NULL,
    issued_on       DATE NOT NULL,
    expires_on      DATE,
    status          VARCHAR,            -- 有效 | 注销 | 吊销
    _delivery_month DATE NOT NULL,
    _source_file    VARCHAR NOT NULL,
    _file_sha256    VARCHAR NOT NULL,
    _row_number     BIGINT NOT NULL,
    _line_number    BIGINT
);
COMMENT ON TABLE staging.licenses IS 'Administrative licences, typed and validated (行政许可)';

-- name: typed
-- One delivery ($month) typed, normalised and judged, the first problem of a row deciding its reason, into
-- _typed (quarantine.rows.sql#judge_duplicates and #split take it on).
CREATE OR REPLACE TEMP TABLE _typed AS
SELECT
    zs_text(r.license_no) AS license_no,
    zs_code(r.uscc) AS uscc,
    lower(zs_text(r.domain)) AS domain,
    zs_date(r.issued_on) AS issued_on,
    zs_date(r.expires_on) AS expires_on,
    zs_text(r.status) AS status,
    r._delivery_month, r._source_file, r._file_sha256, r._row_number, r._line_number,
    zs_text(r.license_no) AS _key,
    zs_first_problem([
        zs_chk_malformed(r._raw_line),
        zs_chk_required('license_no', r.license_no),
        zs_chk_uscc('uscc', r.uscc, true),
        zs_chk_enum('domain', r.domain, lower(zs_text(r.domain)), true,
            ['food', 'special_equipment', 'industrial_product', 'drug', 'medical_device', 'cosmetics', 'other']),
        zs_chk_date('issued_on', r.issued_on, true, $month_end),
        zs_chk_date('expires_on', r.expires_on, false, NULL::DATE),
        zs_chk_enum('status', r.status, zs_text(r.status), false, ['有效', '注销', '吊销'])
    ]) AS _problem
FROM raw.licenses r
WHERE r._delivery_month = $month;
