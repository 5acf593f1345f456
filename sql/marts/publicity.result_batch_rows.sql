-- publicity.result_batch_rows (一公开批次明细): the results of each one-public batch as published (see
-- publicity.result_batches.sql).
CREATE SCHEMA IF NOT EXISTS publicity;
CREATE TABLE IF NOT EXISTS publicity.result_batch_rows (
    batch_id            VARCHAR NOT NULL,   -- the batch that published the row
    month               DATE NOT NULL,      -- delivery month M
    task_id             VARCHAR NOT NULL,   -- 任务编号
    uscc                VARCHAR NOT NULL,   -- 统一社会信用代码
    name                VARCHAR,            -- 企业名称, registry as known when published
    plan_id             VARCHAR,            -- 抽查计划编号
    plan_name           VARCHAR,            -- 抽查计划名称, when the plan was delivered by then
    inspection_type     VARCHAR NOT NULL,   -- random | triggered | special
    department_code     VARCHAR,            -- member-unit code as delivered
    department          VARCHAR,            -- 检查实施机关 as published
    inspected_on        DATE NOT NULL,      -- 检查日期 = the day the result was formed
    result_text         VARCHAR,            -- 检查结果
    recorded_on         DATE,               -- 录入日期 as delivered; NULL when the source sent none
    source_file         VARCHAR NOT NULL,   -- landing file that delivered the row
    deadline            DATE NOT NULL,      -- 公示截止日期: the 20th working day after inspected_on
    published_on        DATE NOT NULL,      -- 公示日期 = the batch's publication date
    late                BOOLEAN NOT NULL,   -- 是否超期: published_on > deadline
    working_days_taken  INTEGER NOT NULL,   -- working days after inspected_on up to published_on
    deadline_basis      VARCHAR NOT NULL    -- statutory | configured | weekends_only (calendar used)
);
COMMENT ON TABLE publicity.result_batch_rows IS 'The results of each one-public batch as published, with deadline and late flag; no tier, score or stratum (一公开批次明细)';

-- name: insert_pending
-- The results of one new batch, from the frame registered as _batch_rows under a provisional batch id (the
-- export reads them by it until the files are named). The caller holds the transaction open until the files
-- are renamed into place: a batch is in the tables exactly when its files are published.
INSERT INTO publicity.result_batch_rows BY NAME
SELECT * FROM _batch_rows ORDER BY inspected_on, task_id;

-- name: first_publication
-- For each result of delivery month $month, the batch that first made it public and that batch's date (公示日期).
-- A corrected file is a new batch: a result it repeats stays dated by its first publication.
SELECT task_id, batch_id, published_on
FROM publicity.result_batch_rows
WHERE month = $month
QUALIFY row_number() OVER (PARTITION BY task_id ORDER BY published_on, batch_id) = 1;
