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
