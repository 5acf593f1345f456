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

-- name: replace_plan
-- Replace one plan's rows of sampling.plan with the package content registered as _plan_rows.
DELETE FROM sampling.plan WHERE plan_id = $plan_id;
INSERT INTO sampling.plan BY NAME SELECT * FROM _plan_rows ORDER BY task_no;
SELECT count(*) FROM sampling.plan WHERE plan_id = $plan_id;

-- name: staffing
-- How one plan's tasks stand now (after amendments): with a full inspector pair or not, and why not.
SELECT inspector_1 IS NOT NULL AND inspector_2 IS NOT NULL AS full_pair, coalesce(unassigned_reason, '') AS reason,
    count(*) AS tasks
FROM sampling.plan
WHERE plan_id = $plan_id
GROUP BY ALL
ORDER BY ALL;

-- name: assigned_pairs
-- The (task, inspector) pairs one plan assigns now, both slots.
SELECT p.uscc, i.inspector_id
FROM sampling.plan p
CROSS JOIN LATERAL (SELECT unnest([p.inspector_1, p.inspector_2]) AS inspector_id) i
WHERE p.plan_id = $plan_id AND i.inspector_id IS NOT NULL
ORDER BY 1, 2;

-- name: tasks_by_plan
-- Tasks per plan loaded into sampling.plan (a plan is loaded only from its written package).
SELECT plan_id, count(*) FROM sampling.plan GROUP BY plan_id;

-- name: summary
-- Drawn plans by the month they are carried out (双随机抽查计划汇总): plans, tasks, tasks with a pair.
SELECT strftime(month + INTERVAL 1 MONTH, '%Y-%m') AS plan_month, count(DISTINCT plan_id) AS plans,
       count(*) AS tasks, count(inspector_1) AS staffed
FROM sampling.plan
GROUP BY ALL
ORDER BY 1;
