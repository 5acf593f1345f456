-- 抽查对象名录 of one plan for the tier month M (plan carried out in M+1), into _sampling_frame_rows, from
-- the month's _sampling_base (sql/sampling/frame_base.sql: tiered in M and alive at its end).
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
