-- Dynamic ratios under capacity (动态调整抽查比例和频次): per tier month M, one row per plan drawing in M+1 and tier
-- of its frame, with the annual ratio configured and the one proposed to find the most problems within the plan's
-- inspector capacity, floors and caps (lib/sampling/proposals.py). A proposal only: an operator adopts it by
-- editing config/sampling_plans.yaml; a published plan never changes. Internal: the strata are credit-risk tiers.
CREATE SCHEMA IF NOT EXISTS sampling;
CREATE TABLE IF NOT EXISTS sampling.allocation (
    month                   DATE NOT NULL,      -- the tier month M (its first day); the plans run in M+1
    plan_id                 VARCHAR NOT NULL,   -- <prefix>-<YYYY-MM of M+1>, e.g. MR-GENERAL-2024-04
    department              VARCHAR NOT NULL,   -- member unit whose inspectors carry the plan out
    tier                    VARCHAR NOT NULL,   -- A/B/C/D of month M: the stratum
    frame_size              BIGINT NOT NULL,    -- N: enterprises of the stratum in the frame of M
    population              DOUBLE NOT NULL,    -- enterprises a year the annual ratio applies to
    inspections_known       BIGINT NOT NULL,    -- random inspections of the plan and tier the rate is estimated from
    rate_estimate           DOUBLE,             -- Hájek 1/π-weighted problem-found rate of those inspections
    rate_low                DOUBLE,             -- Korn–Graubard interval of rate_estimate
    rate_high               DOUBLE,
    rate_used               DOUBLE,             -- the conservative rate the proposal maximises on
    rate_basis              VARCHAR NOT NULL,   -- plan_tier | tier (no inspection of the plan: the tier's) | none
    current_ratio           DOUBLE NOT NULL,    -- annual ratio of config/sampling_plans.yaml
    floor                   DOUBLE NOT NULL,    -- lowest annual ratio allowed
    floor_basis             VARCHAR NOT NULL,   -- legal_floor (publicity plan, 3 %) | min_ratio
    cap                     DOUBLE NOT NULL,    -- highest annual ratio allowed
    proposed_ratio          DOUBLE NOT NULL,    -- annual ratio proposed
    inspections_current     DOUBLE NOT NULL,    -- inspections a year at the configured ratio
    inspections_proposed    DOUBLE NOT NULL,    -- inspections a year at the proposed ratio
    expected_current        DOUBLE,             -- problems expected a year at the configured ratio
    expected_proposed       DOUBLE,             -- problems expected a year at the proposed ratio
    inspectors              BIGINT NOT NULL,    -- the plan's inspectors the draw may pair
    capacity                DOUBLE NOT NULL,    -- inspections a year those inspectors can staff
    budget                  DOUBLE NOT NULL,    -- inspections a year the proposal may use for the plan
    binding                 VARCHAR NOT NULL,   -- what holds the proposed ratio where it is
    policy_version          VARCHAR             -- version of the policy files the proposal was computed with
);
COMMENT ON TABLE sampling.allocation IS 'Proposed annual ratios per plan and tier for the plans of M+1 (dynamic ratios under capacity): the configured ratio, the estimated problem-found rate, the proposal that finds the most problems within the inspectors'' capacity, the floors and caps, and what binds it; a proposal for operators, never adopted by itself; internal, strata are tiers (动态调整抽查比例建议，内部)';

-- name: frame_sizes
-- N per plan and tier of the frames of tier month $month (sampling.frame, the frames of the plans of M+1).
SELECT plan_id, tier, count(*) AS frame_size
FROM sampling.frame
WHERE month = $month
GROUP BY ALL
ORDER BY ALL;

-- name: random_inspections
-- The random (双随机) inspections the rates are estimated from, as the model's labels are read
-- (labels.sql): delivered by $month, dated from $window_start to $month_end, with π of the random plan that drew
-- them (plans delivered by $month) and the tier their enterprise held in the month before the inspection.
-- `plan` is the plan_id's prefix (MR-GENERAL of MR-GENERAL-2024-04: the words before the year and month).
-- Triggered and special inspections are chosen for risk, not at random: they never enter. Ordered, so the
-- weighted sums computed from these rows are the same on every run.
SELECT
    regexp_extract(i.plan_id, '^(.+?)-\d{4}-\d{2}', 1) AS plan,
    i.plan_id,
    t.tier,
    p.pi,
    i.problem_found::INTEGER AS found
FROM staging.inspections i
JOIN zs_random_plans($month) p ON p.plan_id = i.plan_id  -- intermediate/random_plans.sql
JOIN tiers.enterprise_monthly t
    ON t.uscc = i.uscc AND t.month = (date_trunc('month', i.inspected_on) - INTERVAL 1 MONTH)::DATE
WHERE i.trigger = 'random'
  AND i._delivery_month <= $month
  AND i.inspected_on BETWEEN $window_start AND $month_end
ORDER BY i.task_id;

-- name: replace_month
-- Replace tier month $month (幂等重跑) with _allocation_rows, registered by the caller inside one transaction
-- with the frontier's (sampling.allocation_frontier.sql#replace_month).
DELETE FROM sampling.allocation WHERE month = $month;
INSERT INTO sampling.allocation BY NAME
SELECT * FROM _allocation_rows ORDER BY plan_id, tier;


-- name: summary
-- The latest tier month's proposal per plan, for the demo's printout: the ratios configured and proposed by tier,
-- the inspections and the problems expected a year, now and proposed.
SELECT
    strftime(month, '%Y-%m') AS month,
    plan_id,
    string_agg(tier || ' ' || round(current_ratio, 3) || '→' || round(proposed_ratio, 3), ', ' ORDER BY tier)
        AS ratios,
    sum(inspections_current) AS inspections_current,
    sum(inspections_proposed) AS inspections_proposed,
    sum(expected_current) AS expected_current,
    sum(expected_proposed) AS expected_proposed
FROM sampling.allocation
WHERE month = (SELECT max(month) FROM sampling.allocation)
GROUP BY ALL
ORDER BY plan_id;

-- name: proposal_of_month
-- The proposal of tier month $month as an operator adopts it (lib/sampling/adoption.py): per plan and tier the
-- ratios configured and proposed, and the policy version the proposal was computed under.
SELECT plan_id, tier, current_ratio, proposed_ratio, policy_version
FROM sampling.allocation
WHERE month = $month
ORDER BY plan_id, tier;
