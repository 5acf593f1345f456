-- The enterprise dimension of the mart (企业基本信息): every enterprise the registry knows at the end of $month, as
-- its latest version then says. Point in time like the features: only records delivered by $month and dated by
-- $month_end, versions ordered the same way. Nothing personal: the legal representative's hash and the address
-- stay in the warehouse.
CREATE SCHEMA IF NOT EXISTS reporting;
CREATE TABLE IF NOT EXISTS reporting.enterprises (
    month               DATE NOT NULL,
    uscc                VARCHAR NOT NULL,
    name                VARCHAR NOT NULL,
    entity_type         VARCHAR NOT NULL,
    industry_code       VARCHAR NOT NULL,
    industry_section    VARCHAR NOT NULL,
    town_code           VARCHAR NOT NULL,
    status              VARCHAR NOT NULL,
    status_changed_on   DATE,
    established_on      DATE NOT NULL,
    registered_capital  DECIMAL(18, 2),
    alive               BOOLEAN NOT NULL
);

-- name: replace_month
-- Replace month $month.
DELETE FROM reporting.enterprises WHERE month = $month;
INSERT INTO reporting.enterprises
SELECT
    $month, uscc, name, entity_type, industry_code, left(industry_code, 1), town_code, status, status_changed_on,
    established_on, registered_capital, status IN ('存续', '在业')
FROM staging.registry
WHERE _delivery_month <= $month AND record_date <= $month_end
QUALIFY row_number() OVER (PARTITION BY uscc
    ORDER BY record_date DESC, _delivery_month DESC, _source_file DESC, _row_number DESC) = 1;
