-- The one-public batches (随到随公示批次): every inspections landing file published as it arrives, once, never
-- rewritten. publicity.result_batches has one row per published batch, publicity.result_batch_rows its results.
CREATE SCHEMA IF NOT EXISTS publicity;
CREATE TABLE IF NOT EXISTS publicity.result_batches (
    batch_id                VARCHAR NOT NULL,   -- <published_on>_<file stem>[_<sha256 prefix>]: the files' name
    month                   DATE NOT NULL,      -- delivery month M: the landing folder of the file
    source_file             VARCHAR NOT NULL,   -- landing file below landing/
    file_sha256             VARCHAR NOT NULL,   -- the file's bytes as published: other bytes are another batch
    row_count               INTEGER NOT NULL,   -- results published
    arrived_on              DATE NOT NULL,      -- latest 录入日期 of its rows (the ingestion day for rows without)
    rows_without_recorded_on INTEGER NOT NULL,  -- rows dated by the ingestion day instead
    published_on            DATE NOT NULL,      -- 公示日期: the first working day after arrived_on
    publication_basis       VARCHAR NOT NULL,   -- statutory | configured | weekends_only (calendar of that day)
    late_rows               INTEGER NOT NULL,   -- rows published after their deadline (是否超期 = 是)
    utf8_sha256             VARCHAR NOT NULL,   -- SHA-256 of the published UTF-8 file
    gb18030_sha256          VARCHAR NOT NULL,   -- SHA-256 of the published GB18030 file
    published_at            TIMESTAMP NOT NULL  -- when zs-risk wrote the files (UTC)
);
COMMENT ON TABLE publicity.result_batches IS 'One-public batches: each inspections landing file published on arrival, immutable, with publication date and late rows (一公开随到随公示批次)';
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
