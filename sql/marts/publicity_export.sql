-- A one-public file (一公开), column names as the publicity system takes them: the month's record
-- ({table} = inspection_results, {key} = month) or one batch published on arrival ({table} = result_batch_rows,
-- {key} = batch_id); the same columns either way. Codes become the published wording ($types → $type_labels,
-- $bases → $basis_labels; defined in lib/publicity/export.py). Only these columns leave: the export check refuses any
-- other column before the file is renamed into place.
WITH types AS (
    SELECT unnest($types) AS code, unnest($type_labels) AS label
), bases AS (
    SELECT unnest($bases) AS code, unnest($basis_labels) AS label
)
SELECT
    r.task_id AS "任务编号",
    r.uscc AS "统一社会信用代码",
    r.name AS "企业名称",
    r.plan_id AS "抽查计划编号",
    r.plan_name AS "抽查计划名称",
    t.label AS "检查类型",
    r.department AS "检查实施机关",
    strftime(r.inspected_on, '%Y-%m-%d') AS "检查日期",
    r.result_text AS "检查结果",
    strftime(r.published_on, '%Y-%m-%d') AS "公示日期",
    strftime(r.deadline, '%Y-%m-%d') AS "公示截止日期",
    CASE WHEN r.late THEN '是' ELSE '否' END AS "是否超期",
    b.label AS "截止日期口径"
FROM publicity.{table} r
LEFT JOIN types t ON t.code = r.inspection_type
LEFT JOIN bases b ON b.code = r.deadline_basis
WHERE r.{key} = $key
ORDER BY r.inspected_on, r.task_id;
