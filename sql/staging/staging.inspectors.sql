-- Inspector directory (执法检查人员名录库): a full snapshot per delivery.
CREATE SCHEMA IF NOT EXISTS staging;
CREATE TABLE IF NOT EXISTS staging.inspectors (
    inspector_id            VARCHAR NOT NULL,
    department              VARCHAR NOT NULL,  -- member-unit code
    branch                  VARCHAR NOT NULL,  -- town code, or city
    qualifications          VARCHAR[] NOT NULL,
    certificate_valid_until DATE NOT NULL,
    active                  BOOLEAN NOT NULL,
    _delivery_month DATE NOT NULL,
    _source_file    VARCHAR NOT NULL,
    _file_sha256    VARCHAR NOT NULL,
    _row_number     BIGINT NOT NULL,
    _line_number    BIGINT
);
COMMENT ON TABLE staging.inspectors IS 'Inspector directory snapshots, typed and validated (执法检查人员名录库)';

-- name: typed
-- One delivery ($month) typed, normalised and judged, the first problem of a row deciding its reason, into
-- _typed (quarantine.rows.sql#judge_duplicates and #split take it on).
CREATE OR REPLACE TEMP TABLE _typed AS
SELECT
    zs_text(r.inspector_id) AS inspector_id,
    zs_code(r.department) AS department,
    lower(zs_text(r.branch)) AS branch,
    list_sort(list_distinct(list_filter(
        list_transform(string_split(lower(zs_text(r.qualifications)), ';'), lambda q: trim(q)), lambda q: q <> '')))
        AS qualifications,
    zs_date(r.certificate_valid_until) AS certificate_valid_until,
    zs_bool(r.active) AS active,
    r._delivery_month, r._source_file, r._file_sha256, r._row_number, r._line_number,
    -- A full snapshot per file: an inspector repeats only within one file. A corrected snapshot delivered later
    -- in the month is a second file, and the directory in force is the last one (intermediate/eligibility.sql).
    r._source_file || '|' || zs_text(r.inspector_id) AS _key,
    zs_first_problem([
        zs_chk_malformed(r._raw_line),
        zs_chk_required('inspector_id', r.inspector_id),
        zs_chk_required('department', r.department),
        CASE WHEN lower(zs_text(r.branch)) IS DISTINCT FROM 'city' THEN zs_chk_town('branch', r.branch) END,
        zs_chk_required('qualifications', r.qualifications),
        CASE WHEN NOT list_bool_and(list_transform(
                list_filter(string_split(lower(zs_text(r.qualifications)), ';'), lambda q: trim(q) <> ''),
                lambda q: trim(q) IN ('general', 'food', 'special_equipment', 'industrial_product', 'drug',
                    'medical_device', 'cosmetics', 'other')))
            THEN zs_problem('bad_enum', 'qualifications', 'unknown enforcement domain', r.qualifications) END,
        zs_chk_date('certificate_valid_until', r.certificate_valid_until, true, NULL::DATE),
        zs_chk_bool('active', r.active, true)
    ]) AS _problem
FROM raw.inspectors r
WHERE r._delivery_month = $month;
