-- Inspection results for the mart (抽查检查结果), by the delivery month that brought them (a late result restates
-- its month as a new published version), with the name and kind of their plan as the plans source last recorded
-- it by then. The inspectors stay in the warehouse.
CREATE SCHEMA IF NOT EXISTS reporting;
CREATE TABLE IF NOT EXISTS reporting.inspection_results (
    month           DATE NOT NULL,
    task_id         VARCHAR NOT NULL,
    plan_id         VARCHAR,
    plan_name       VARCHAR,
    plan_kind       VARCHAR,
    trigger         VARCHAR NOT NULL,
    uscc            VARCHAR NOT NULL,
    inspected_on    DATE NOT NULL,
    recorded_on     DATE,
    result_codes    VARCHAR[] NOT NULL,
    problem_found   BOOLEAN NOT NULL,
    result_text     VARCHAR,
    department      VARCHAR
);

-- name: replace_month
-- Replace month $month.
DELETE FROM reporting.inspection_results WHERE month = $month;
INSERT INTO reporting.inspection_results
WITH plans AS (
    SELECT plan_id, plan_name, kind
    FROM staging.plans
    WHERE _delivery_month <= $month
    QUALIFY row_number() OVER (PARTITION BY plan_id ORDER BY _delivery_month DESC, _source_file DESC, _row_number DESC) = 1
)
SELECT
    $month, i.task_id, i.plan_id, p.plan_name, p.kind, i.trigger, i.uscc, i.inspected_on, i.recorded_on,
    i.result_codes, i.problem_found, i.result_text, i.department
FROM staging.inspections AS i
LEFT JOIN plans AS p ON p.plan_id = i.plan_id
WHERE i._delivery_month = $month;
