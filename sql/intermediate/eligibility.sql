-- 检查人员匹配的静态约束, draw-v1 (design.md §4, §6 eligibility.csv): which inspectors may take the task of
-- each selected enterprise of one plan drawn from the tiers of month M and carried out in M+1. The workload
-- cap is not applied here: lib/sampling/protocol.py assign() applies it while it walks the tasks.
-- Input: _eligibility_selection(uscc), registered by the caller, one row per task.
-- Parameters: $month, $month_end (M), $plan_month_end (last day of M+1), $recent_since (first day of M+1
-- minus 12 months), $department (the plan's member unit), $domains (the distinct domains of its items).
-- Point in time: only rows delivered by M count, so a later delivery never changes the eligibility of M.
-- #inspectors writes the temp table _eligibility_inspectors (the directory in force, each inspector with the first
-- inspector-level constraint it fails); #candidates then writes _eligibility_tasks and _eligibility_candidates and
-- returns the one-row summary; #pairs lists the eligible pairs (the caller drops the temp tables). #pool counts
-- the inspectors of #inspectors who pass, for the capacity of a plan (lib/sampling/proposals.py).

-- name: inspectors
-- The directory in force (名录库): the latest full snapshot delivered by M - of the latest delivery month, the
-- file whose name sorts last (a corrected snapshot delivered later in the month; someone it no longer lists has
-- left). An identical snapshot delivered again is rejected as a duplicate file, so a month without rows means
-- the previous snapshot still holds.
-- Each inspector carries the first inspector-level constraint it fails (NULL: passes them all), in the
-- order the summary counts them: department first, so other member units' staff are not counted as, say,
-- inactive for this plan.
CREATE OR REPLACE TEMP TABLE _eligibility_inspectors AS
WITH snapshot AS (
    SELECT _delivery_month AS delivery, max(_source_file) AS source_file
    FROM staging.inspectors
    WHERE _delivery_month = (SELECT max(_delivery_month) FROM staging.inspectors WHERE _delivery_month <= $month)
    GROUP BY ALL
)
SELECT
    i.inspector_id,
    i.branch,
    i._delivery_month,
    CASE
        WHEN i.department <> $department THEN 'department'
        WHEN NOT i.active THEN 'inactive'
        -- Valid throughout the inspection month, not merely on its first day.
        WHEN i.certificate_valid_until < $plan_month_end THEN 'certificate'
        -- Every item's domain, 'general' included: one inspector covers the whole task.
        WHEN NOT list_has_all(i.qualifications, CAST($domains AS VARCHAR[])) THEN 'qualification'
    END AS excluded
FROM staging.inspectors i
JOIN snapshot s ON i._delivery_month = s.delivery AND i._source_file = s.source_file
-- Staging keeps inspector_id unique per snapshot file; the guard keeps eligibility pairs unique regardless.
QUALIFY row_number() OVER (PARTITION BY i.inspector_id ORDER BY i._source_file DESC, i._row_number DESC) = 1;

-- name: candidates
-- The tasks with the enterprise's town (所属镇街) from its registry version known at the end of M, chosen
-- as sampling.frame.sql#base chooses it (staging.registry_history's valid_to can see later deliveries).
-- No known version: town_code NULL, so only city-level staff match (counted in the summary).
CREATE OR REPLACE TEMP TABLE _eligibility_tasks AS
WITH tasks AS (
    -- CAST: a registered frame with no rows has untyped columns.
    SELECT DISTINCT CAST(uscc AS VARCHAR) AS uscc FROM _eligibility_selection
), registry_now AS (
    SELECT r.uscc, r.town_code
    FROM staging.registry r
    WHERE r._delivery_month <= $month AND r.record_date <= $month_end
        AND r.uscc IN (SELECT uscc FROM tasks)
    QUALIFY row_number() OVER (PARTITION BY r.uscc
        ORDER BY r.record_date DESC, r._delivery_month DESC, r._source_file DESC, r._row_number DESC) = 1
)
SELECT t.uscc, r.town_code
FROM tasks t
LEFT JOIN registry_now r ON r.uscc = t.uscc;

-- Pairs of a task and an inspector passing every inspector-level constraint and of the enterprise's branch
-- (分局 = town code) or city level, flagged with the pair-level constraints. The branch match is two joins,
-- an equi-join by town and a cross join with the (few) city-level staff, not one join on an OR: the
-- selection can be ~15,000 tasks × ~3,000 inspectors.
CREATE OR REPLACE TEMP TABLE _eligibility_candidates AS
WITH pool AS (
    SELECT inspector_id, branch FROM _eligibility_inspectors WHERE excluded IS NULL
), matched AS (
    SELECT t.uscc, p.inspector_id
    FROM _eligibility_tasks t
    JOIN pool p ON p.branch = t.town_code AND p.branch <> 'city'
    UNION ALL
    SELECT t.uscc, p.inspector_id
    FROM _eligibility_tasks t
    CROSS JOIN (SELECT inspector_id FROM pool WHERE branch = 'city') p
),
-- 回避关系: declared by the end of M and delivered by M; a declaration has no end date.
conflicted AS (
    SELECT DISTINCT uscc, inspector_id
    FROM staging.conflicts
    WHERE _delivery_month <= $month AND declared_on <= $month_end
        AND uscc IN (SELECT uscc FROM _eligibility_tasks)
),
-- Not the same inspector on the same enterprise within the 12 months before M+1 (inspections delivered by
-- M; every one of the task's inspectors counts).
inspected AS (
    SELECT uscc, unnest(inspector_ids) AS inspector_id
    FROM staging.inspections
    WHERE _delivery_month <= $month AND inspected_on >= $recent_since
        AND uscc IN (SELECT uscc FROM _eligibility_tasks)
), recent AS (
    SELECT DISTINCT uscc, inspector_id FROM inspected WHERE inspector_id IS NOT NULL
)
SELECT
    m.uscc,
    m.inspector_id,
    c.uscc IS NOT NULL AS conflict,
    r.uscc IS NOT NULL AS recent
FROM matched m
LEFT JOIN conflicted c ON c.uscc = m.uscc AND c.inspector_id = m.inspector_id
LEFT JOIN recent r ON r.uscc = m.uscc AND r.inspector_id = m.inspector_id;

-- Why candidates were excluded. A candidate is a pair (task, inspector of the snapshot); each is counted
-- once, under the first constraint it fails in the order department, inactive, certificate, qualification,
-- branch, conflict, recent_inspection, so candidates = eligible + the sum of the excluded_* counts.
-- Inspector-level exclusions are tasks × inspectors, computed without building the cross product.
WITH t AS (
    SELECT count(*) AS tasks, count(*) FILTER (WHERE town_code IS NULL) AS tasks_without_town
    FROM _eligibility_tasks
), i AS (
    SELECT
        max(_delivery_month) AS snapshot_month,
        count(*) AS inspectors,
        count(*) FILTER (WHERE excluded IS NULL) AS pool,
        count(*) FILTER (WHERE excluded = 'department') AS department,
        count(*) FILTER (WHERE excluded = 'inactive') AS inactive,
        count(*) FILTER (WHERE excluded = 'certificate') AS certificate,
        count(*) FILTER (WHERE excluded = 'qualification') AS qualification
    FROM _eligibility_inspectors
), c AS (
    SELECT
        count(*) AS matched,
        count(*) FILTER (WHERE conflict) AS conflict,
        count(*) FILTER (WHERE recent AND NOT conflict) AS recent,
        count(*) FILTER (WHERE NOT conflict AND NOT recent) AS eligible
    FROM _eligibility_candidates
)
SELECT
    i.snapshot_month,
    t.tasks,
    t.tasks_without_town,
    i.inspectors,
    t.tasks * i.inspectors AS candidates,
    t.tasks * i.department AS excluded_department,
    t.tasks * i.inactive AS excluded_inactive,
    t.tasks * i.certificate AS excluded_certificate,
    t.tasks * i.qualification AS excluded_qualification,
    t.tasks * i.pool - c.matched AS excluded_branch,
    c.conflict AS excluded_conflict,
    c.recent AS excluded_recent_inspection,
    c.eligible
FROM t, i, c;

-- name: pairs
-- eligibility.csv of draw-v1 (design.md §6): the pairs (uscc, inspector_id) passing every static constraint,
-- from _eligibility_candidates (the definition above). Byte-wise order (COLLATE C), as the
-- protocol compares text, so the list reads the same on any connection.
SELECT uscc, inspector_id
FROM _eligibility_candidates
WHERE NOT conflict AND NOT recent
ORDER BY uscc COLLATE C, inspector_id COLLATE C;

-- name: pool
-- The plan's inspector pool (可抽检查人员) in _eligibility_inspectors (#inspectors): the snapshot month of the
-- directory in force (NULL when none was delivered by M) and its inspectors who pass every inspector-level constraint
-- (department, active, certificate valid through M+1, qualified for every item), before branch, conflicts and recent
-- inspections rule out pairs task by task.
SELECT max(_delivery_month) AS snapshot_month, count(*) FILTER (WHERE excluded IS NULL) AS pool
FROM _eligibility_inspectors;
