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
    inspector_1         VARCHAR,            -- the inspectors now, after the plan's amendments (计划变更)
    inspector_2         VARCHAR,
    unassigned_reason   VARCHAR,            -- why no full pair: at the draw, or an amendment nobody could fill
    seed_commitment     VARCHAR NOT NULL,   -- sha256 of the plan's seed, recorded before the draw
    drawn_inspector_1   VARCHAR,            -- the pair as drawn (assignments.csv)
    drawn_inspector_2   VARCHAR,
    amendment           VARCHAR,            -- how the task changed since the draw (变更), NULL when it did not
    policy_version      VARCHAR             -- version of the policy files the plan was drawn under (plan.json)
);
-- Homes built before amendments existed get the new columns (NULL: nothing amended there yet).
ALTER TABLE sampling.plan ADD COLUMN IF NOT EXISTS drawn_inspector_1 VARCHAR;
ALTER TABLE sampling.plan ADD COLUMN IF NOT EXISTS drawn_inspector_2 VARCHAR;
ALTER TABLE sampling.plan ADD COLUMN IF NOT EXISTS amendment VARCHAR;
ALTER TABLE sampling.plan ADD COLUMN IF NOT EXISTS policy_version VARCHAR;
COMMENT ON TABLE sampling.plan IS 'Drawn double-random plans: selected enterprises in staffing order with their inspector pair (as amended) or the reason there is none; restricted, strata are tiers (双随机抽查名单及检查人员，内部)';
COMMENT ON COLUMN sampling.plan.amendment IS 'Amendments of the task since the draw: replaced → replacement (reason, month) (计划变更)';
CREATE TABLE IF NOT EXISTS sampling.commitments (
    plan_id             VARCHAR NOT NULL PRIMARY KEY,
    seed_commitment     VARCHAR NOT NULL,   -- sha256(seed), written before the draw is made
    algorithm           VARCHAR NOT NULL,
    committed_at        TIMESTAMP NOT NULL
);
-- The signed record (lib/evidence/signing.py): commitment, algorithm, frame SHA-256 and rows, time, key, signature.
ALTER TABLE sampling.commitments ADD COLUMN IF NOT EXISTS frame_sha256 VARCHAR;
ALTER TABLE sampling.commitments ADD COLUMN IF NOT EXISTS record VARCHAR;
COMMENT ON TABLE sampling.commitments IS 'Seed commitments of the draws, recorded before each draw (随机种子承诺值)';
