-- Task lists for the staff who carry the plans out (检查任务清单), tier month $month (inspections in M+1):
-- per task the branch (分局) of the enterprise's town, the plan, the enterprise's name and address as known at
-- the end of M, the items and the inspectors as the plan's amendments leave them, with the change marked (变更). Deliberately no tier, stratum, score or draw number: the lists
-- leave the restricted area, and inspectors must not know why a firm was drawn.
-- Nor may the order tell it: the draw staffs tasks by draw key, and higher-rate strata (higher tiers) admit larger
-- keys, so a number or row order taken from the draw would rank the firms by tier. Each branch's list is in the
-- order of the enterprise's town (镇街 code of the registry), then USCC (then plan), numbered 1..n in that order.
WITH registry_now AS (
    SELECT r.uscc, r.name, r.address, r.town_code
    FROM staging.registry r
    WHERE r._delivery_month <= $month AND r.record_date <= $month_end
        AND r.uscc IN (SELECT uscc FROM sampling.plan WHERE month = $month)
    QUALIFY row_number() OVER (PARTITION BY r.uscc
        ORDER BY r.record_date DESC, r._delivery_month DESC, r._source_file DESC, r._row_number DESC) = 1
), items AS (
    SELECT unnest($plan_ids) AS plan_id, unnest($plan_names) AS plan_name, unnest($items) AS items
)
SELECT
    coalesce(t.branch_name_zh, '市局') AS branch,
    p.plan_id AS "抽查计划编号",
    i.plan_name AS "计划名称",
    row_number() OVER (
        PARTITION BY coalesce(t.branch_name_zh, '市局') ORDER BY r.town_code NULLS LAST, p.uscc, p.plan_id
    ) AS "任务序号",
    p.uscc AS "统一社会信用代码",
    r.name AS "企业名称",
    r.address AS "住所",
    t.name_zh AS "镇街",
    i.items AS "检查事项",
    p.inspector_1 AS "检查人员1",
    p.inspector_2 AS "检查人员2",
    p.unassigned_reason AS "未能匹配人员原因",
    p.amendment AS "变更"
FROM sampling.plan p
JOIN items i ON i.plan_id = p.plan_id
LEFT JOIN registry_now r ON r.uscc = p.uscc
LEFT JOIN read_csv($towns_csv, all_varchar = true, header = true) t ON t.town_code = r.town_code
WHERE p.month = $month
ORDER BY branch, "任务序号";
