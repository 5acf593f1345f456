-- The double-random plans zs-risk drew from the tiers of $month (双随机抽查计划任务), one row per drawn enterprise,
-- with its stratum's N, n and π from the frame it was drawn from. Not the seed's selection value, the draw order or
-- the inspectors: those stay in the plan's restricted package.
CREATE SCHEMA IF NOT EXISTS reporting;
CREATE TABLE IF NOT EXISTS reporting.inspection_plans (
    month                   DATE NOT NULL,
    plan_id                 VARCHAR NOT NULL,
    plan_month              DATE NOT NULL,
    uscc                    VARCHAR NOT NULL,
    stratum_frame_size      BIGINT,
    stratum_sample_size     BIGINT,
    inclusion_probability   DOUBLE,
    staffed                 BOOLEAN NOT NULL,
    unassigned_reason       VARCHAR,
    amended                 BOOLEAN NOT NULL,
    seed_commitment         VARCHAR NOT NULL,
    policy_version          VARCHAR
);

-- name: replace_month
-- Replace month $month.
DELETE FROM reporting.inspection_plans WHERE month = $month;
INSERT INTO reporting.inspection_plans
SELECT
    p.month, p.plan_id, CAST(p.month + INTERVAL 1 MONTH AS DATE), p.uscc, f.frame_size, f.sample_size,
    f.inclusion_probability, p.inspector_1 IS NOT NULL AND p.inspector_2 IS NOT NULL, p.unassigned_reason,
    p.amendment IS NOT NULL, p.seed_commitment, p.policy_version
FROM sampling.plan AS p
LEFT JOIN sampling.frame AS f ON f.month = p.month AND f.plan_id = p.plan_id AND f.uscc = p.uscc
WHERE p.month = $month;
