-- 检查人员匹配, draw-v1 (design.md §6): the tasks of _draw_tasks(uscc) in the order they are served,
-- ascending (k, uscc) over the whole plan, each followed by its eligible inspectors from
-- _draw_eligibility(uscc, inspector_id) in ascending sha256("$seed|$plan_id|uscc|inspector_id") order
-- (lowercase hex compares like the digest bytes). A task with no eligible inspector still appears, once,
-- with a NULL inspector: tasks are reported, never dropped. The workload walk itself runs in Python.
WITH tasks AS (
    SELECT
        uscc COLLATE C AS uscc,
        CAST('0x' || left(sha256($seed || '|' || $plan_id || '|' || uscc), 16) AS UBIGINT) AS k
    FROM _draw_tasks
), candidates AS (
    -- CAST: a registered frame with no rows has untyped columns.
    SELECT
        CAST(uscc AS VARCHAR) COLLATE C AS uscc,
        CAST(inspector_id AS VARCHAR) AS inspector_id,
        sha256($seed || '|' || $plan_id || '|' || uscc || '|' || inspector_id) COLLATE C AS h
    FROM _draw_eligibility
)
SELECT t.uscc, c.inspector_id
FROM tasks t
LEFT JOIN candidates c ON c.uscc = t.uscc
ORDER BY t.k, t.uscc, c.h NULLS LAST;
