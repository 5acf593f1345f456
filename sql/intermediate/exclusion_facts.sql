-- 计划变更的排除事实 (design.md §6 amendments): which (task, inspector) pairs of a published plan's
-- eligibility.csv the constraints no longer allow, by what is known now up to the plan's own delivery
-- cut-off M, with the fact, its evidence and the delivery month that brought it.
-- Input: _amend_pairs(uscc, inspector_id), the eligibility.csv rows, registered by the caller.
-- Parameters as intermediate/eligibility.sql: $month, $month_end (M), $plan_month_end (last day of M+1),
-- $recent_since (first day of M+1 minus 12 months), $department, $domains.
-- Each pair gets the first constraint it fails, in the order eligibility.sql applies them (an inspector
-- missing from the directory first); lib/sampling/drawing.py cross-checks the pairs against eligibility recomputed
-- by eligibility.sql, so the two readings of the constraints cannot drift apart unnoticed.
WITH snapshot AS (
    -- The directory in force, chosen as intermediate/eligibility.sql chooses it.
    SELECT _delivery_month AS delivery, max(_source_file) AS source_file
    FROM staging.inspectors
    WHERE _delivery_month = (SELECT max(_delivery_month) FROM staging.inspectors WHERE _delivery_month <= $month)
    GROUP BY ALL
), directory AS (
    SELECT i.inspector_id, i.department, i.branch, i.active, i.certificate_valid_until, i.qualifications,
           i._delivery_month, i._source_file, i._row_number
    FROM staging.inspectors i
    JOIN snapshot s ON i._delivery_month = s.delivery AND i._source_file = s.source_file
    QUALIFY row_number() OVER (PARTITION BY i.inspector_id ORDER BY i._source_file DESC, i._row_number DESC) = 1
), pairs AS (
    SELECT DISTINCT CAST(uscc AS VARCHAR) AS uscc, CAST(inspector_id AS VARCHAR) AS inspector_id FROM _amend_pairs
), registry_now AS (
    SELECT r.uscc, r.town_code, r._delivery_month
    FROM staging.registry r
    WHERE r._delivery_month <= $month AND r.record_date <= $month_end
        AND r.uscc IN (SELECT uscc FROM pairs)
    QUALIFY row_number() OVER (PARTITION BY r.uscc
        ORDER BY r.record_date DESC, r._delivery_month DESC, r._source_file DESC, r._row_number DESC) = 1
), conflicted AS (
    -- The first declaration of each pair is its evidence.
    SELECT c.uscc, c.inspector_id,
           arg_min(c.declared_on, (c.declared_on, c._delivery_month, c._source_file, c._row_number)) AS declared_on,
           arg_min(c.reason, (c.declared_on, c._delivery_month, c._source_file, c._row_number)) AS reason,
           arg_min(c._delivery_month, (c.declared_on, c._delivery_month, c._source_file, c._row_number)) AS delivery,
           arg_min(c._source_file || ' row ' || c._row_number,
                   (c.declared_on, c._delivery_month, c._source_file, c._row_number)) AS source
    FROM staging.conflicts c
    JOIN pairs p ON p.uscc = c.uscc AND p.inspector_id = c.inspector_id
    WHERE c._delivery_month <= $month AND c.declared_on <= $month_end
    GROUP BY ALL
), inspected AS (
    SELECT i.uscc, unnest(i.inspector_ids) AS inspector_id, i.inspected_on, i.task_id, i.plan_id,
           i._delivery_month, i._source_file, i._row_number
    FROM staging.inspections i
    WHERE i._delivery_month <= $month AND i.inspected_on >= $recent_since
        AND i.uscc IN (SELECT uscc FROM pairs)
), recent AS (
    -- The latest such inspection of each pair is its evidence.
    SELECT x.uscc, x.inspector_id,
           arg_max(x.inspected_on, (x.inspected_on, x.task_id)) AS inspected_on,
           arg_max(x.task_id, (x.inspected_on, x.task_id)) AS task_id,
           arg_max(x.plan_id, (x.inspected_on, x.task_id)) AS plan_id,
           arg_max(x._delivery_month, (x.inspected_on, x.task_id)) AS delivery,
           arg_max(x._source_file || ' row ' || x._row_number, (x.inspected_on, x.task_id)) AS source
    FROM inspected x
    JOIN pairs p ON p.uscc = x.uscc AND p.inspector_id = x.inspector_id
    GROUP BY ALL
), judged AS (
    SELECT
        p.uscc,
        p.inspector_id,
        d.department, d.branch, d.active, d.certificate_valid_until, d.qualifications,
        d._delivery_month, d._source_file, d._row_number,
        r.town_code,
        r._delivery_month AS registry_delivery,
        c.declared_on, c.reason AS conflict_reason, c.delivery AS conflict_delivery, c.source AS conflict_source,
        x.inspected_on, x.task_id, x.plan_id, x.delivery AS inspection_delivery, x.source AS inspection_source,
        CASE
            WHEN d.inspector_id IS NULL THEN 'left'
            WHEN d.department <> $department THEN 'department'
            WHEN NOT d.active THEN 'inactive'
            WHEN d.certificate_valid_until < $plan_month_end THEN 'certificate'
            WHEN NOT list_has_all(d.qualifications, CAST($domains AS VARCHAR[])) THEN 'qualification'
            WHEN d.branch <> 'city' AND d.branch IS DISTINCT FROM r.town_code THEN 'branch'
            WHEN c.uscc IS NOT NULL THEN 'conflict'
            WHEN x.uscc IS NOT NULL THEN 'recent_inspection'
        END AS fact
    FROM pairs p
    LEFT JOIN directory d ON d.inspector_id = p.inspector_id
    LEFT JOIN registry_now r ON r.uscc = p.uscc
    LEFT JOIN conflicted c ON c.uscc = p.uscc AND c.inspector_id = p.inspector_id
    LEFT JOIN recent x ON x.uscc = p.uscc AND x.inspector_id = p.inspector_id
)
SELECT
    uscc,
    inspector_id,
    fact AS reason,
    CASE fact
        WHEN 'left' THEN 'not in the inspector directory in force (' || (SELECT source_file FROM snapshot) || ')'
        WHEN 'department' THEN 'now of ' || department || ', the plan is of ' || $department
            || ' (' || _source_file || ' row ' || _row_number || ')'
        WHEN 'inactive' THEN 'not in post (在岗 = no) (' || _source_file || ' row ' || _row_number || ')'
        WHEN 'certificate' THEN 'certificate valid until ' || strftime(certificate_valid_until, '%Y-%m-%d')
            || ', before ' || strftime(CAST($plan_month_end AS DATE), '%Y-%m-%d')
            || ' (' || _source_file || ' row ' || _row_number || ')'
        WHEN 'qualification' THEN 'qualified for ' || array_to_string(qualifications, ';') || ', the items need '
            || array_to_string(CAST($domains AS VARCHAR[]), ';') || ' (' || _source_file || ' row ' || _row_number || ')'
        WHEN 'branch' THEN 'of branch ' || branch || ', the enterprise is registered in '
            || coalesce(town_code, 'no known town') || ' (' || _source_file || ' row ' || _row_number || ')'
        WHEN 'conflict' THEN 'conflict of interest (回避) declared on ' || strftime(declared_on, '%Y-%m-%d')
            || coalesce(': ' || conflict_reason, '') || ' (' || conflict_source || ')'
        WHEN 'recent_inspection' THEN 'inspected the enterprise on ' || strftime(inspected_on, '%Y-%m-%d')
            || ', task ' || task_id || coalesce(' of plan ' || plan_id, '') || ' (' || inspection_source || ')'
    END AS evidence,
    strftime(CASE fact
        WHEN 'left' THEN (SELECT delivery FROM snapshot)
        WHEN 'branch' THEN greatest(_delivery_month, registry_delivery)
        WHEN 'conflict' THEN conflict_delivery
        WHEN 'recent_inspection' THEN inspection_delivery
        ELSE _delivery_month
    END, '%Y-%m') AS known_in
FROM judged
WHERE fact IS NOT NULL
ORDER BY uscc, inspector_id;
