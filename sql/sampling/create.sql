-- Sampling frames (抽查对象名录): per plan and tier month M, the enterprises the plan carried out in M+1 may
-- draw, with their stratum, rate and inclusion probability. Internal: the strata are credit-risk tiers.
CREATE SCHEMA IF NOT EXISTS sampling;
CREATE TABLE IF NOT EXISTS sampling.frame (
    month                   DATE NOT NULL,      -- the tier month M (its first day); the plan runs in M+1
    plan_id                 VARCHAR NOT NULL,   -- <prefix>-<YYYY-MM of M+1>, e.g. MR-GENERAL-2024-04
    uscc                    VARCHAR NOT NULL,   -- one row per eligible enterprise and plan
    tier                    VARCHAR NOT NULL,   -- A/B/C/D of month M
    stratum                 VARCHAR NOT NULL,   -- draw protocol v1 stratum (= tier)
    rate                    VARCHAR NOT NULL,   -- the stratum's per-draw rate, an exact decimal string
    frame_size              BIGINT NOT NULL,    -- N_h: enterprises of the stratum in this frame
    sample_size             BIGINT NOT NULL,    -- n_h = min(N_h, ceil(rate × N_h)), exact decimal
    inclusion_probability   DOUBLE NOT NULL,    -- π = n_h / N_h
    town_code               VARCHAR NOT NULL,   -- 9-digit code of reference/towns.csv
    town_no                 INTEGER,            -- its last three digits, as features.town_no
    industry_code           VARCHAR NOT NULL,   -- GB/T 4754-2017 class, e.g. C3872
    industry_section        VARCHAR NOT NULL,   -- section letter (门类), e.g. C
    industry_division       VARCHAR,            -- two-digit division (大类), e.g. 38
    policy_version          VARCHAR             -- version of the policy files the frame was built with
);
ALTER TABLE sampling.frame ADD COLUMN IF NOT EXISTS policy_version VARCHAR;
COMMENT ON TABLE sampling.frame IS 'Sampling frame per plan and tier month M (inspections in M+1): eligible enterprises with stratum, per-draw rate, N, n and inclusion probability; internal, strata are tiers (双随机抽查对象名录，内部)';
COMMENT ON COLUMN sampling.frame.month IS 'Tier month M (first day); the plan is carried out in M+1 (分级月份)';
COMMENT ON COLUMN sampling.frame.plan_id IS 'Plan id: prefix and the year-month of M+1 (抽查计划编号)';
COMMENT ON COLUMN sampling.frame.rate IS 'Per-draw rate of the stratum as an exact decimal string (本批次抽查比例)';
COMMENT ON COLUMN sampling.frame.policy_version IS 'Version of the policy files (tiers and sampling plans) the frame was built with; a published plan keeps the version it was drawn under (政策口径版本)';
COMMENT ON COLUMN sampling.frame.inclusion_probability IS 'Inclusion probability π = n_h / N_h of the stratum (入选概率)';
