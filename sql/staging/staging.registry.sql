-- Enterprise registry (登记注册信息): typed, normalised and judged, one delivery at a time.
-- History (valid_from / valid_to) is the view staging.registry_history over all deliveries.
CREATE SCHEMA IF NOT EXISTS staging;
CREATE TABLE IF NOT EXISTS staging.registry (
    uscc                VARCHAR NOT NULL,
    name                VARCHAR NOT NULL,
    entity_type         VARCHAR NOT NULL,
    industry_code       VARCHAR NOT NULL,
    town_code           VARCHAR NOT NULL,
    registered_capital  DECIMAL(18, 2),   -- 万元
    established_on      DATE NOT NULL,
    status              VARCHAR NOT NULL,
    status_changed_on   DATE,
    legal_rep_hash      VARCHAR NOT NULL, -- keyed hash of the legal representative's ID number
    address             VARCHAR,
    record_date         DATE NOT NULL,
    _delivery_month DATE NOT NULL,
    _source_file    VARCHAR NOT NULL,
    _file_sha256    VARCHAR NOT NULL,
    _row_number     BIGINT NOT NULL,
    _line_number    BIGINT
);
COMMENT ON TABLE staging.registry IS 'Enterprise registry change records, typed and validated (登记注册信息)';

-- name: typed
-- One delivery ($month) typed, normalised and judged, the first problem of a row deciding its reason, into
-- _typed (quarantine.rows.sql#judge_duplicates and #split take it on).
CREATE OR REPLACE TEMP TABLE _typed AS
SELECT
    zs_code(r.uscc) AS uscc,
    zs_text(r.name) AS name,
    zs_text(r.entity_type) AS entity_type,
    zs_code(r.industry_code) AS industry_code,
    zs_text(r.town_code) AS town_code,
    zs_decimal(r.registered_capital) AS registered_capital,
    zs_date(r.established_on) AS established_on,
    zs_text(r.status) AS status,
    zs_date(r.status_changed_on) AS status_changed_on,
    r.legal_rep_id AS legal_rep_hash,
    zs_text(r.address) AS address,
    zs_date(r.record_date) AS record_date,
    r._delivery_month, r._source_file, r._file_sha256, r._row_number, r._line_number,
    zs_code(r.uscc) || '|' || coalesce(zs_date(r.record_date)::VARCHAR, '') AS _key,
    zs_first_problem([
        zs_chk_malformed(r._raw_line),
        zs_chk_uscc('uscc', r.uscc, true),
        zs_chk_required('name', r.name),
        zs_chk_enum('entity_type', r.entity_type, zs_text(r.entity_type), true,
            ['有限责任公司', '股份有限公司', '个人独资企业', '合伙企业', '外商投资企业', '农民专业合作社', '个体工商户', '分支机构']),
        zs_chk_industry('industry_code', r.industry_code),
        zs_chk_town('town_code', r.town_code),
        zs_chk_decimal('registered_capital', r.registered_capital, false),
        zs_chk_date('established_on', r.established_on, true, $month_end),
        zs_chk_enum('status', r.status, zs_text(r.status), true, ['存续', '在业', '吊销', '注销', '迁出', '撤销']),
        zs_chk_date('status_changed_on', r.status_changed_on, false, $month_end),
        zs_chk_required('legal_rep_id', r.legal_rep_id),
        zs_chk_date('record_date', r.record_date, true, $month_end)
    ]) AS _problem
FROM raw.registry r
WHERE r._delivery_month = $month;
