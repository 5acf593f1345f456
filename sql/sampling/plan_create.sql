-- Drawn plans (抽查名单与检查人员): one row per selected enterprise and plan, with its inspector pair or the
-- reason it has none. Restricted: the strata are credit-risk tiers. Filled from the plan's verification
-- package, so a rerun of the month reproduces it exactly and never redraws a published plan.
CREATE SCHEMA IF NOT EXISTS sampling;
CREATE TABLE IF NOT EXISTS sampling.plan (
    month               DATE NOT NULL,      -- the tier month M the plan was drawn from
    plan_id             VARCHAR NOT NULL,   -- <prefix>-<YYYY-MM of M+1>
    task_no             INTEGER NOT NULL,   -- order in which tasks were staffed: ascending (k, uscc)
    uscc                VARCHAR NOT NULL,
    stratum             VARCHAR NOT NULL,   -- the tier the enterprise was drawn in
    u                   DOUBLE NOT NULL,    -- k / 2^64 of draw protocol v1 (reading only)
    inspector_1         VARCHAR,
    inspector_2         VARCHAR,
    unassigned_reason   VARCHAR,            -- why no pair could be formed; the task is kept, never dropped
    seed_commitment     VARCHAR NOT NULL    -- sha256 of the plan's seed, recorded before the draw
);
COMMENT ON TABLE sampling.plan IS 'Drawn double-random plans: selected enterprises in staffing order with their inspector pair or the reason there is none; restricted, strata are tiers (双随机抽查名单及检查人员，内部)';
CREATE TABLE IF NOT EXISTS sampling.commitments (
    plan_id             VARCHAR NOT NULL PRIMARY KEY,
    seed_commitment     VARCHAR NOT NULL,   -- sha256(seed), written before the draw is made
    algorithm           VARCHAR NOT NULL,
    committed_at        TIMESTAMP NOT NULL
);
COMMENT ON TABLE sampling.commitments IS 'Seed commitments of the draws, recorded before each draw (随机种子承诺值)';
