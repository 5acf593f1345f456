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
