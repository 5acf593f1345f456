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
