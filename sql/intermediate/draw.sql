-- Draw protocol v1 (design.md §6), the two set-based steps of a draw: the selection per stratum, then the order
-- in which the selected tasks are staffed with their candidates (the workload walk runs in lib/sampling/protocol.py).

-- name: selection
-- 双随机抽取, draw-v1 (design.md §6): stratified selection of the enterprises in _draw_frame(uscc, stratum).
-- k = the first 8 bytes of sha256("$seed|$plan_id|uscc") read big-endian as an unsigned 64-bit integer:
-- sha256() gives lowercase hex, so its first 16 characters behind '0x' cast exactly to UBIGINT.
-- In each stratum the n smallest (k, uscc) are taken, n coming from $strata/$sizes (computed in exact
-- decimal arithmetic by the caller). COLLATE C keeps comparisons byte-wise (the protocol's order) even on a
-- connection whose default collation is something else. u = k / 2^64 is for reading only; k is compared.
WITH keyed AS (
    SELECT
        uscc COLLATE C AS uscc,
        stratum COLLATE C AS stratum,
        CAST('0x' || left(sha256($seed || '|' || $plan_id || '|' || uscc), 16) AS UBIGINT) AS k
    FROM _draw_frame
), sizes AS (
    SELECT unnest($strata) COLLATE C AS stratum, unnest($sizes) AS n
), ranked AS (
    SELECT uscc, stratum, k, row_number() OVER (PARTITION BY stratum ORDER BY k, uscc) AS rank_in_stratum
    FROM keyed
)
SELECT r.uscc, r.stratum, r.k, CAST(r.k AS DOUBLE) / CAST(18446744073709551616 AS DOUBLE) AS u
FROM ranked r
JOIN sizes s ON s.stratum = r.stratum
WHERE r.rank_in_stratum <= s.n
ORDER BY r.k, r.uscc;

-- name: assignment_order
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
