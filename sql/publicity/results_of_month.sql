-- Inspection results delivered in month $month (抽查检查结果), every kind (double-random, triggered, special),
-- with what the one-public export (一公开) shows: the enterprise's name as registered at the end of the month,
-- the plan's name when the plan was delivered by then, and the authority's name for the department code
-- ($dept_codes → $dept_names, config/publicity.yaml). Deliberately no join to tiers, sampling frames or
-- scores: nothing internal can reach the public file from here. The deadline is added in lib/publicity.py.
WITH results AS (
    SELECT * FROM staging.inspections
    WHERE _delivery_month = $month
    -- task_id is unique across deliveries; keep one row per task all the same, the latest delivered.
    QUALIFY row_number() OVER (PARTITION BY task_id ORDER BY _source_file DESC, _row_number DESC) = 1
), registry_now AS (
    SELECT r.uscc, r.name
    FROM staging.registry r
    WHERE r._delivery_month <= $month AND r.record_date <= $month_end
        AND r.uscc IN (SELECT uscc FROM results)
    QUALIFY row_number() OVER (PARTITION BY r.uscc
        ORDER BY r.record_date DESC, r._delivery_month DESC, r._source_file DESC, r._row_number DESC) = 1
), plans_known AS (
    SELECT p.plan_id, p.plan_name, p.department
    FROM staging.plans p
    WHERE p._delivery_month <= $month AND p.plan_id IN (SELECT plan_id FROM results)
    QUALIFY row_number() OVER (PARTITION BY p.plan_id
        ORDER BY p._delivery_month DESC, p._source_file DESC, p._row_number DESC) = 1
), departments AS (
    SELECT unnest($dept_codes) AS code, unnest($dept_names) AS name
)
SELECT
    i.task_id,
    i.uscc,
    r.name,
    i.plan_id,
    p.plan_name,
    i.trigger AS inspection_type,
    coalesce(i.department, p.department) AS department_code,
    coalesce(d.name, i.department, p.department) AS department,
    i.inspected_on,
    i.result_text
FROM results i
LEFT JOIN registry_now r ON r.uscc = i.uscc
LEFT JOIN plans_known p ON p.plan_id = i.plan_id
LEFT JOIN departments d ON d.code = coalesce(i.department, p.department)
ORDER BY i.inspected_on, i.task_id;
