-- Effectiveness of the month's inspections (监管效能), computed without the hidden truth: per inspection month M,
-- one row per cut (all inspections, by trigger, plan, department, tier, random inspections by tier, the pooled
-- tier-stratified plans, the city-wide estimate) with counts, problems found per 100 inspections, the lift over
-- the city's problem rate estimated from the city-wide random plans (Hájek 1/π) and the share of the city's
-- problem firms reached. Internal: holds the tiers' aggregate rates. Filled by lib/effectiveness/
-- inspection_effectiveness.py from #inspections, then the month is replaced (#replace_month).
CREATE SCHEMA IF NOT EXISTS effectiveness;
CREATE TABLE IF NOT EXISTS effectiveness.inspection_effectiveness (
    month              DATE NOT NULL,     -- the inspection month M (its first day)
    cut                VARCHAR NOT NULL,  -- all | trigger | plan | department | tier | random_tier | targeted | city
    key                VARCHAR NOT NULL,  -- the group within the cut: a trigger, plan id, department code, tier …
    plan_name          VARCHAR,           -- plan rows: the plan's name as the plans source delivered it
    targeted           BOOLEAN,           -- plan rows: drawn by tier strata (one plans row per tier)
    inspections        BIGINT NOT NULL,   -- inspections dated in M and delivered by its end
    problems_found     BIGINT NOT NULL,   -- of which found a problem
    firms_found        BIGINT NOT NULL,   -- distinct enterprises found with a problem
    per_100            DOUBLE,            -- problems found per 100 inspections; NULL without inspections
    lift               DOUBLE,            -- per_100 / 100 over the city rate: findings over n uniform draws'
    lift_low           DOUBLE,            -- the lift at the city rate's upper bound
    lift_high          DOUBLE,            -- the lift at the city rate's lower bound; NULL when that bound is 0
    rate               DOUBLE,            -- city row: Hájek estimate of the city-wide problem rate (post-stratified)
    rate_se            DOUBLE,            -- city row: its standard error (stratified, without replacement)
    rate_low           DOUBLE,            -- city row: Korn–Graubard 95 % lower bound
    rate_high          DOUBLE,            -- city row: Korn–Graubard 95 % upper bound
    population         BIGINT,            -- city row: enterprises the rate stands for (tiered in M-1, else the frame)
    strata             INTEGER,           -- city row: strata (plans rows) the estimate draws on
    single_draw_strata INTEGER,           -- city row: of which with one inspection (no variance of their own)
    share_reached      DOUBLE,            -- all row: problem firms found / (rate × population), at most 1
    share_reached_low  DOUBLE,            -- all row: at the city rate's upper bound
    share_reached_high DOUBLE,            -- all row: at the city rate's lower bound
    note               VARCHAR,           -- why a measure of the row is empty
    policy_version     VARCHAR            -- version of the policy files the rows were computed with
);
COMMENT ON TABLE effectiveness.inspection_effectiveness IS 'Effectiveness of the month''s inspections: problems found per 100 inspections by trigger, plan, department and tier, the city-wide problem rate estimated from the random city-wide plans (Hájek 1/π, Korn–Graubard interval), the lift over it at equal budget and the share of problem firms reached; internal, holds the tiers'' rates (监管效能：问题发现率、全市问题率估计、提升倍数与问题企业覆盖率，内部参考)';

-- name: inspections
-- The inspections dated in month $month and delivered by its end (what is known then), into _eff_inspections.
-- zs-risk's own plans deliver one plans row per tier stratum, plan_id `<plan_id>/<tier>` with the π of the
-- stratum; a uniform draw delivers one row per plan. Each inspection carries its plan's id without the stratum
-- (`plan`), whether that plan was drawn by tier strata, the tier its enterprise held when the plan was drawn (the
-- stratum, else its tier of the month before the inspection: the tiers of M-1 draw the plans of M), the π of a
-- random inspection of a delivered random plan, whether the plan is city-wide (its id among $city_wide), and the
-- frame size of its plan (all strata).
CREATE OR REPLACE TEMP MACRO zs_plan_base(plan_id) AS split_part(plan_id, '/', 1);
CREATE OR REPLACE TEMP TABLE _eff_inspections AS
WITH plans AS (
    SELECT plan_id, plan_name, kind, inclusion_probability,
        sum(frame_size) OVER (PARTITION BY zs_plan_base(plan_id)) AS plan_frame
    FROM staging.plans
    WHERE _delivery_month <= $month
)
SELECT
    i.task_id,
    i.uscc,
    i.trigger,
    i.problem_found,
    coalesce(i.department, 'unknown') AS department,
    coalesce(zs_plan_base(i.plan_id), 'no plan') AS plan,
    coalesce(i.plan_id <> zs_plan_base(i.plan_id), false) AS targeted,
    coalesce(nullif(split_part(i.plan_id, '/', 2), ''), t.tier, 'not tiered') AS tier,
    p.plan_name,
    CASE WHEN i.trigger = 'random' AND p.kind = 'random' AND p.inclusion_probability > 0
        AND p.inclusion_probability <= 1 THEN p.inclusion_probability END AS pi,
    i.plan_id AS stratum,
    coalesce(list_contains($city_wide, regexp_replace(zs_plan_base(i.plan_id), '-\d{4}-\d{2}$', '')), false)
        AS city_wide,
    p.plan_frame
FROM staging.inspections i
LEFT JOIN plans p ON p.plan_id = i.plan_id
LEFT JOIN tiers.enterprise_monthly t ON t.uscc = i.uscc AND t.month = $prev_month
WHERE i.inspected_on BETWEEN $month AND $month_end AND i._delivery_month <= $month;

-- name: city_sample
-- The random inspections of the city-wide plans with their π and stratum (the Hájek estimator's sample), the
-- size of the city-wide frame (the largest among the plans: one publicity plan in practice) and the tier of the
-- inspected enterprise (its post-stratum).
SELECT problem_found::INTEGER AS found, pi, stratum, max(plan_frame) OVER () AS population, tier
FROM _eff_inspections
WHERE city_wide AND pi IS NOT NULL
ORDER BY task_id;

-- name: city_tiers
-- The city's enterprises by tier in the month before $month (the tiers that drew the month's plans): the population
-- the city rate is post-stratified to.
SELECT tier, count(*) AS enterprises
FROM tiers.enterprise_monthly
WHERE month = $prev_month
GROUP BY tier
ORDER BY tier;

-- name: cuts
-- Counts of every cut of _eff_inspections: each inspection counts once in all, trigger, plan, department and
-- tier, once more in random_tier and targeted when it is random (of a tier-stratified plan, for targeted), and in
-- city when it is in city_sample. The all, targeted and city rows exist in every month, with or without
-- inspections. Ordered by cut, then key.
WITH expanded AS (
    SELECT unnest(list_filter([
        {'cut': 'all', 'key': 'all', 'keep': true},
        {'cut': 'trigger', 'key': trigger, 'keep': true},
        {'cut': 'plan', 'key': plan, 'keep': true},
        {'cut': 'department', 'key': department, 'keep': true},
        {'cut': 'tier', 'key': tier, 'keep': true},
        {'cut': 'random_tier', 'key': tier, 'keep': trigger = 'random'},
        {'cut': 'targeted', 'key': 'tier-stratified plans', 'keep': trigger = 'random' AND targeted},
        {'cut': 'city', 'key': 'city-wide plans', 'keep': city_wide AND pi IS NOT NULL}
    ], lambda c: c.keep)) AS c, uscc, problem_found, plan_name, targeted
    FROM _eff_inspections
), rows AS (
    SELECT c.cut, c.key, uscc, problem_found, plan_name, targeted FROM expanded
    UNION ALL
    SELECT cut, key, NULL, NULL, NULL, NULL
    FROM (VALUES ('all', 'all'), ('targeted', 'tier-stratified plans'), ('city', 'city-wide plans')) v(cut, key)
)
SELECT
    cut,
    key,
    min(plan_name) FILTER (WHERE cut = 'plan') AS plan_name,
    bool_or(targeted) FILTER (WHERE cut = 'plan') AS targeted,
    count(uscc) AS inspections,
    count(uscc) FILTER (WHERE problem_found) AS problems_found,
    count(DISTINCT uscc) FILTER (WHERE problem_found) AS firms_found
FROM rows
GROUP BY cut, key
ORDER BY list_position($cuts, cut), key;

-- name: replace_month
-- Replace month $month with the rows registered as _eff_rows (the cuts with their measures), in cut order; the
-- caller wraps this in one transaction.
DELETE FROM effectiveness.inspection_effectiveness WHERE month = $month;
INSERT INTO effectiveness.inspection_effectiveness BY NAME
SELECT $month AS month, *, $policy_version AS policy_version FROM _eff_rows
ORDER BY list_position($cuts, cut), key;

-- name: summary
-- One line per inspection month for the demo's printout: inspections and problems found, problems per 100
-- random inspections by tier, the city rate with its interval, the lift of the tier-stratified plans and the
-- share of problem firms reached.
SELECT
    strftime(month, '%Y-%m') AS month,
    max(inspections) FILTER (WHERE cut = 'all') AS inspections,
    max(problems_found) FILTER (WHERE cut = 'all') AS problems_found,
    max(per_100) FILTER (WHERE cut = 'all') AS per_100,
    max(per_100) FILTER (WHERE cut = 'random_tier' AND key = 'A') AS per_100_a,
    max(per_100) FILTER (WHERE cut = 'random_tier' AND key = 'B') AS per_100_b,
    max(per_100) FILTER (WHERE cut = 'random_tier' AND key = 'C') AS per_100_c,
    max(per_100) FILTER (WHERE cut = 'random_tier' AND key = 'D') AS per_100_d,
    max(rate) FILTER (WHERE cut = 'city') AS city_rate,
    max(rate_low) FILTER (WHERE cut = 'city') AS city_low,
    max(rate_high) FILTER (WHERE cut = 'city') AS city_high,
    max(lift) FILTER (WHERE cut = 'targeted') AS targeted_lift,
    max(share_reached) FILTER (WHERE cut = 'all') AS share_reached
FROM effectiveness.inspection_effectiveness
GROUP BY month
ORDER BY month;

-- name: model_served_months
-- The inspection months built whose plans a trained model drew: the tiers of the month before were scored by a
-- LightGBM model of the registry, not by the scorecard of the cold start.
SELECT strftime(e.month, '%Y-%m') AS month
FROM (SELECT DISTINCT month FROM effectiveness.inspection_effectiveness) e
JOIN (
    SELECT month FROM tiers.enterprise_monthly
    GROUP BY month
    HAVING bool_and(model_kind = 'lightgbm')
) t ON t.month = (e.month - INTERVAL 1 MONTH)::DATE
ORDER BY e.month;
