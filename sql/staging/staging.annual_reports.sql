-- Annual reports (年度报告): typed, normalised and judged, one delivery at a time.
CREATE SCHEMA IF NOT EXISTS staging;
CREATE TABLE IF NOT EXISTS staging.annual_reports (
    uscc                    VARCHAR NOT NULL,
    report_year             INTEGER NOT NULL,
    submitted_on            DATE NOT NULL,
    employees               BIGINT,
    social_insurance_count  BIGINT,
    revenue                 DECIMAL(18, 2),   -- 万元
    total_assets            DECIMAL(18, 2),   -- 万元
    _delivery_month DATE NOT NULL,
    _source_file    VARCHAR NOT NULL,
    _file_sha256    VARCHAR NOT NULL,
    _row_number     BIGINT NOT NULL,
    _line_number    BIGINT
);
COMMENT ON TABLE staging.annual_reports IS 'Annual reports, typed and validated (年度报告)';

-- name: typed
-- One delivery ($month) typed, normalised and judged, the first problem of a row deciding its reason, into
-- _typed (quarantine.rows.sql#judge_duplicates and #split take it on).
CREATE OR REPLACE TEMP TABLE _typed AS
SELECT
    zs_code(r.uscc) AS uscc,
    zs_int(r.report_year)::INTEGER AS report_year,
    zs_date(r.submitted_on) AS submitted_on,
    zs_int(r.employees) AS employees,
    zs_int(r.social_insurance_count) AS social_insurance_count,
    zs_decimal(r.revenue) AS revenue,
    zs_decimal(r.total_assets) AS total_assets,
    r._delivery_month, r._source_file, r._file_sha256, r._row_number, r._line_number,
    zs_code(r.uscc) || '|' || coalesce(zs_text(r.report_year), '') AS _key,
    zs_first_problem([
        zs_chk_malformed(r._raw_line),
        zs_chk_uscc('uscc', r.uscc, true),
        zs_chk_int('report_year', r.report_year, true),
        CASE WHEN zs_int(r.report_year) NOT BETWEEN 1990 AND year($month_end) - 1 THEN zs_problem('bad_number',
            'report_year', 'a report year must be a past year', r.report_year) END,
        zs_chk_date('submitted_on', r.submitted_on, true, $month_end),
        zs_chk_int('employees', r.employees, false),
        zs_chk_int('social_insurance_count', r.social_insurance_count, false),
        zs_chk_decimal('revenue', r.revenue, false),
        zs_chk_decimal('total_assets', r.total_assets, false)
    ]) AS _problem
FROM raw.annual_reports r
WHERE r._delivery_month = $month;
