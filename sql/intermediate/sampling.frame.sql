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

-- name: base
-- The enterprises every plan of tier month M draws from, computed once for all the month's plans into
-- _sampling_base: tiered in M (tiers.enterprise_monthly) and 存续/在业 in the registry version known at
-- the end of M, with the town and industry the scopes filter on. Parameters: $month, $month_end.
-- Point in time: only registry rows delivered by M and dated by its end count. The view
-- staging.registry_history is not used: its valid_to can see deliveries after M.
CREATE OR REPLACE TEMP TABLE _sampling_base AS
WITH tiered AS (
    SELECT uscc, tier FROM tiers.enterprise_monthly WHERE month = $month
),
-- The latest version per enterprise, ordered as the features order versions.
registry_now AS (
    SELECT r.uscc, r.industry_code, r.town_code, r.status
    FROM staging.registry r
    WHERE r._delivery_month <= $month AND r.record_date <= $month_end
        AND r.uscc IN (SELECT uscc FROM tiered)
    QUALIFY row_number() OVER (PARTITION BY r.uscc
        ORDER BY r.record_date DESC, r._delivery_month DESC, r._source_file DESC, r._row_number DESC) = 1
)
SELECT
    t.uscc,
    t.tier,
    r.town_code,
    TRY_CAST(right(r.town_code, 3) AS INTEGER) AS town_no,
    r.industry_code,
    left(r.industry_code, 1) AS industry_section,
    substr(r.industry_code, 2, 2) AS industry_division
FROM tiered t
JOIN registry_now r ON r.uscc = t.uscc
WHERE r.status IN ('存续', '在业');

-- name: prior_plans
-- Enterprises of our own earlier draws (sampling.plan: one row per enterprise drawn, with its plan_id), so
-- that the frame can leave out anyone already drawn for the same plan in the same calendar year.
CREATE OR REPLACE TEMP VIEW _sampling_prior AS
SELECT CAST(plan_id AS VARCHAR) AS plan_id, CAST(uscc AS VARCHAR) AS uscc FROM sampling.plan;

-- name: no_prior_plans
-- No sampling.plan yet (a fresh warehouse, or the months before the first draw): no earlier draws of ours.
CREATE OR REPLACE TEMP VIEW _sampling_prior AS
SELECT CAST(NULL AS VARCHAR) AS plan_id, CAST(NULL AS VARCHAR) AS uscc
WHERE false;

-- name: candidates
-- 抽查对象名录 of one plan for the tier month M (plan carried out in M+1), into _sampling_frame_rows, from
-- the month's _sampling_base (#base: tiered in M and alive at its end).
-- Parameters: $month, $month_end (M), $tiers (tiers drawn this month: A left out under 无事不扰), scope lists
-- $industries (GB/T 4754 prefixes), $licence_domains, $towns (empty = no restriction, AND between lists),
-- $year_prefix ('<prefix>-<YYYY of M+1>-') and $plan_month_no (calendar month of M+1).
-- Left out: enterprises drawn for the same plan prefix in an earlier month of the same calendar year.
-- Point in time: only rows delivered by M count, so a later delivery never changes the frame of M.
CREATE OR REPLACE TEMP TABLE _sampling_frame_rows AS
WITH
-- Licences (行政许可): the latest delivered version of each licence number, valid at the end of M
-- (as features.licences_valid counts them). Skipped when the plan has no licence scope.
licences_now AS (
    SELECT uscc, domain, expires_on, coalesce(status, '有效') AS status
    FROM staging.licenses
    WHERE len(CAST($licence_domains AS VARCHAR[])) > 0 AND _delivery_month <= $month AND issued_on <= $month_end
    QUALIFY row_number() OVER (
        PARTITION BY license_no ORDER BY _delivery_month DESC, _source_file DESC, _row_number DESC) = 1
),
licensed AS (
    SELECT DISTINCT uscc
    FROM licences_now
    WHERE status = '有效' AND coalesce(expires_on >= $month_end, true)
        AND list_contains(CAST($licence_domains AS VARCHAR[]), domain)
),
-- Drawn already this calendar year for this plan: delivered inspection results, and our own earlier plans
-- (_sampling_prior). Only earlier months: rerunning M after its own plan was drawn leaves the frame as is.
drawn AS (
    SELECT uscc
    FROM staging.inspections
    WHERE _delivery_month <= $month AND starts_with(plan_id, $year_prefix)
        AND TRY_CAST(substr(plan_id, length($year_prefix) + 1, 2) AS INTEGER) < $plan_month_no
    UNION
    SELECT uscc
    FROM _sampling_prior
    WHERE starts_with(plan_id, $year_prefix)
        AND TRY_CAST(substr(plan_id, length($year_prefix) + 1, 2) AS INTEGER) < $plan_month_no
)
SELECT b.*, b.tier AS stratum
FROM _sampling_base b
WHERE list_contains(CAST($tiers AS VARCHAR[]), b.tier)
    AND (len(CAST($industries AS VARCHAR[])) = 0
        OR list_bool_or(list_transform(CAST($industries AS VARCHAR[]), lambda p: starts_with(b.industry_code, p))))
    AND (len(CAST($towns AS VARCHAR[])) = 0 OR list_contains(CAST($towns AS VARCHAR[]), b.town_code))
    AND (len(CAST($licence_domains AS VARCHAR[])) = 0 OR b.uscc IN (SELECT uscc FROM licensed))
    AND NOT EXISTS (SELECT 1 FROM drawn d WHERE d.uscc = b.uscc);

-- name: published
-- The frame of a plan already published (抽查对象名录 as drawn), into _sampling_frame_rows: the enterprises of
-- its package's frame.csv (_frame_package: uscc, stratum), whatever the warehouse holds now. A rerun of the
-- month must not recompute a published plan's frame from later information (restated tiers, late results):
-- the frame is part of the plan. Town and industry, for reading only, from the registry version known at
-- the end of M. Parameters: $month, $month_end.
CREATE OR REPLACE TEMP TABLE _sampling_frame_rows AS
WITH package AS (
    SELECT CAST(uscc AS VARCHAR) AS uscc, CAST(stratum AS VARCHAR) AS stratum FROM _frame_package
), registry_now AS (
    SELECT r.uscc, r.industry_code, r.town_code
    FROM staging.registry r
    WHERE r._delivery_month <= $month AND r.record_date <= $month_end
        AND r.uscc IN (SELECT uscc FROM package)
    QUALIFY row_number() OVER (PARTITION BY r.uscc
        ORDER BY r.record_date DESC, r._delivery_month DESC, r._source_file DESC, r._row_number DESC) = 1
)
SELECT
    p.uscc,
    p.stratum AS tier,  -- strata are the tiers the plan was drawn from
    r.town_code,
    TRY_CAST(right(r.town_code, 3) AS INTEGER) AS town_no,
    r.industry_code,
    left(r.industry_code, 1) AS industry_section,
    substr(r.industry_code, 2, 2) AS industry_division,
    p.stratum
FROM package p
LEFT JOIN registry_now r ON r.uscc = p.uscc;

-- name: strata
-- N_h: enterprises per stratum of the frame just computed (n_h and π follow in exact decimal, lib/sampling/protocol.py).
SELECT stratum, count(*) AS n FROM _sampling_frame_rows GROUP BY stratum ORDER BY stratum;

-- name: replace_plan
-- Replace one plan's frame of month M (幂等重跑) with _sampling_frame_rows; the caller runs this in one
-- transaction, so readers see the old frame or the new one. $strata, $rates, $frame_sizes, $sample_sizes
-- are parallel lists, one entry per stratum of the frame; $policy_version the policy the frame was built with.
DELETE FROM sampling.frame WHERE month = $month AND plan_id = $plan_id;
INSERT INTO sampling.frame BY NAME
WITH strata AS (
    SELECT
        unnest(CAST($strata AS VARCHAR[])) AS stratum,
        unnest(CAST($rates AS VARCHAR[])) AS rate,
        unnest(CAST($frame_sizes AS BIGINT[])) AS frame_size,
        unnest(CAST($sample_sizes AS BIGINT[])) AS sample_size
)
SELECT
    CAST($month AS DATE) AS month,
    CAST($plan_id AS VARCHAR) AS plan_id,
    f.uscc, f.tier, f.stratum, s.rate, s.frame_size, s.sample_size,
    CAST(s.sample_size AS DOUBLE) / CAST(s.frame_size AS DOUBLE) AS inclusion_probability,
    f.town_code, f.town_no, f.industry_code, f.industry_section, f.industry_division,
    CAST($policy_version AS VARCHAR) AS policy_version
FROM _sampling_frame_rows f
JOIN strata s ON s.stratum = f.stratum
ORDER BY f.stratum, f.uscc;
SELECT count(*) FROM sampling.frame WHERE month = $month AND plan_id = $plan_id;

-- name: of_plan
-- One plan's frame and per-stratum rates for the draw (draw protocol v1 inputs), from sampling.frame.
SELECT uscc, stratum, rate
FROM sampling.frame
WHERE month = $month AND plan_id = $plan_id
ORDER BY stratum, uscc;
