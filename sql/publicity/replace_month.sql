-- The month's one-public rows (一公开检查结果), replaced from the frame registered as _publicity_rows. The caller
-- runs this in one transaction with the file export: readers see the old month or the new one, never a mix.
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
DELETE FROM publicity.inspection_results WHERE month = $month;
INSERT INTO publicity.inspection_results BY NAME
SELECT * FROM _publicity_rows ORDER BY inspected_on, task_id;
SELECT count(*), count(*) FILTER (WHERE late) FROM publicity.inspection_results WHERE month = $month;
