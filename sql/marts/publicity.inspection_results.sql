-- publicity.inspection_results (一公开检查结果): the month's record of the inspection results published to the
-- public, each dated by the batch that first published it; computed in lib/publicity/export.py from
-- marts/publicity_results_of_month.sql and publicity.result_batch_rows.sql#first_publication.
CREATE SCHEMA IF NOT EXISTS publicity;
CREATE TABLE IF NOT EXISTS publicity.inspection_results (
    month               DATE NOT NULL,      -- the delivery month M of the results
    task_id             VARCHAR NOT NULL,   -- 任务编号
    uscc                VARCHAR NOT NULL,   -- 统一社会信用代码
    name                VARCHAR,            -- 企业名称, registry as of the end of M
    plan_id             VARCHAR,            -- 抽查计划编号; NULL for triggered inspections
    plan_name           VARCHAR,            -- 抽查计划名称, when the plan was delivered by M
    inspection_type     VARCHAR NOT NULL,   -- random (双随机抽查) | triggered (触发式检查) | special (专项检查)
    department_code     VARCHAR,            -- member-unit code as delivered
    department          VARCHAR,            -- 检查实施机关 as published
    inspected_on        DATE NOT NULL,      -- 检查日期 = the day the result was formed
    result_text         VARCHAR,            -- 检查结果
    recorded_on         DATE,               -- 录入日期: the day the source entered (delivered) the result
    batch_id            VARCHAR NOT NULL,   -- the batch that first published it (publicity.result_batches)
    deadline            DATE NOT NULL,      -- 公示截止日期: the 20th working day after inspected_on
    published_on        DATE NOT NULL,      -- 公示日期: the publication date of that batch
    late                BOOLEAN NOT NULL,   -- 是否超期: published_on > deadline
    working_days_taken  INTEGER NOT NULL,   -- working days after inspected_on up to published_on
    deadline_basis      VARCHAR NOT NULL    -- statutory | configured | weekends_only (calendar used)
);
COMMENT ON TABLE publicity.inspection_results IS 'The month''s record of inspection results published to the public, each dated by the batch that first published it on arrival, with the 20-working-day deadline and late flag (late: delivered late by its source); no tier, score or stratum (一公开：抽查检查结果公示及超期标记)';

-- name: replace_month
-- The month's rows, replaced from the frame registered as _publicity_rows. The caller runs this in one
-- transaction with the file export: readers see the old month or the new one, never a mix.
DELETE FROM publicity.inspection_results WHERE month = $month;
INSERT INTO publicity.inspection_results BY NAME
SELECT * FROM _publicity_rows ORDER BY inspected_on, task_id;
SELECT count(*), count(*) FILTER (WHERE late) FROM publicity.inspection_results WHERE month = $month;

-- name: month_summary
-- One month of the one-public export in figures: rows, late rows, rows by calendar basis, and the batches that
-- published them (count, first and last publication date).
SELECT count(*) AS rows, count(*) FILTER (WHERE late) AS late,
    count(*) FILTER (WHERE deadline_basis <> 'statutory') AS not_statutory,
    count(DISTINCT batch_id) AS batches, min(published_on) AS first_published, max(published_on) AS last_published
FROM publicity.inspection_results
WHERE month = $month;

-- name: late_rows
-- Results of month $month published after their 20-working-day deadline (超期公示), oldest first, with the day
-- the source entered them and the batch that published them: published on arrival, they came late.
SELECT task_id, uscc, inspected_on, deadline, recorded_on, published_on, batch_id, working_days_taken, deadline_basis
FROM publicity.inspection_results
WHERE month = $month AND late
ORDER BY inspected_on, task_id;

-- name: late_by_month
-- Late results (超期公示) per exported month: since results are published on arrival, each one was delivered late.
SELECT strftime(month, '%Y-%m') AS month, count(*) AS rows, count(*) FILTER (WHERE late) AS late
FROM publicity.inspection_results
GROUP BY ALL
ORDER BY month;
