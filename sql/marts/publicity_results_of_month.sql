-- Inspection results delivered in month $month (抽查检查结果), every kind (double-random, triggered, special),
-- with what the one-public export (一公开) shows: the enterprise's name as registered at the end of the month,
-- the plan's name when the plan was delivered by then, and the authority's name for the department code
-- ($dept_codes → $dept_names, config/publicity.yaml). Deliberately no join to tiers, sampling frames or
-- scores: nothing internal can reach the public file from here. The registry and the plans are read from
-- staging, or from empty stand-ins in temp while that source is not staged yet (#stand_ins). Each row also says when it arrived: the day the
-- source entered it (recorded_on) and the file that delivered it, with the time that file was ingested (for rows
-- without recorded_on). The deadline and the publication date are added in lib/publicity/export.py.
WITH results AS (
    SELECT * FROM staging.inspections
    WHERE _delivery_month = $month
    -- task_id is unique across deliveries; keep one row per task all the same, the latest delivered.
    QUALIFY row_number() OVER (PARTITION BY task_id ORDER BY _source_file DESC, _row_number DESC) = 1
), registry_now AS (
    SELECT r.uscc, r.name
    FROM {registry_schema}.registry r
    WHERE r._delivery_month <= $month AND r.record_date <= $month_end
        AND r.uscc IN (SELECT uscc FROM results)
    QUALIFY row_number() OVER (PARTITION BY r.uscc
        ORDER BY r.record_date DESC, r._delivery_month DESC, r._source_file DESC, r._row_number DESC) = 1
), plans_known AS (
    SELECT p.plan_id, p.plan_name, p.department
    FROM {plans_schema}.plans p
    WHERE p._delivery_month <= $month AND p.plan_id IN (SELECT plan_id FROM results)
    QUALIFY row_number() OVER (PARTITION BY p.plan_id
        ORDER BY p._delivery_month DESC, p._source_file DESC, p._row_number DESC) = 1
), departments AS (
    SELECT unnest($dept_codes) AS code, unnest($dept_names) AS name
), landed AS (
    SELECT file, sha256, max(ingested_at) AS ingested_at
    FROM raw.landing_files
    WHERE source = 'inspections' AND delivery_month = $month AND status = 'ingested'
    GROUP BY ALL
)
SELECT
    i.task_id,
    i.uscc,
    r.name,
    -- A stratum of a stratified draw is delivered as its own plan, `<plan_id>/<stratum>`; the stratum is a tier,
    -- so only the published plan's id leaves (the name is the plan's own).
    split_part(i.plan_id, '/', 1) AS plan_id,
    p.plan_name,
    i.trigger AS inspection_type,
    coalesce(i.department, p.department) AS department_code,
    coalesce(d.name, i.department, p.department) AS department,
    i.inspected_on,
    i.result_text,
    i.recorded_on,
    i._source_file AS source_file,
    i._file_sha256 AS file_sha256,
    f.ingested_at
FROM results i
LEFT JOIN registry_now r ON r.uscc = i.uscc
LEFT JOIN plans_known p ON p.plan_id = i.plan_id
LEFT JOIN departments d ON d.code = coalesce(i.department, p.department)
LEFT JOIN landed f ON f.file = i._source_file AND f.sha256 = i._file_sha256
ORDER BY i.inspected_on, i.task_id;

-- name: stand_ins
-- Stand-ins (temporary, this connection only) for the registry and the plans while they are not staged yet: in a
-- deployment's first month, results published on arrival come before any month was built. Their names and plan
-- names then stay empty; the month's record, built after the month's end, has them.
CREATE TEMP TABLE IF NOT EXISTS registry (uscc VARCHAR, name VARCHAR, record_date DATE, _delivery_month DATE,
    _source_file VARCHAR, _row_number BIGINT);
CREATE TEMP TABLE IF NOT EXISTS plans (plan_id VARCHAR, plan_name VARCHAR, department VARCHAR, _delivery_month DATE,
    _source_file VARCHAR, _row_number BIGINT);
