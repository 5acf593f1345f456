-- What the ingest layer holds, per source, over all deliveries (for the demo summary). An unchanged repeated
-- delivery (the same bytes as an earlier month's) is not a rejection.
WITH f AS (
    SELECT source, count(*) AS files, sum(rows_read) AS raw_rows,
        count(*) FILTER (status <> 'ingested' AND coalesce(error_code, '') <> 'repeated_delivery') AS rejected
    FROM raw.landing_files GROUP BY ALL
), q AS (
    SELECT source, count(*) AS quarantined FROM quarantine.rows GROUP BY ALL
), s AS (
    SELECT 'registry' AS source, count(*) AS staged FROM staging.registry
    UNION ALL SELECT 'annual_reports', count(*) FROM staging.annual_reports
    UNION ALL SELECT 'abnormal_list', count(*) FROM staging.abnormal_list
    UNION ALL SELECT 'dishonest_list', count(*) FROM staging.dishonest_list
    UNION ALL SELECT 'penalties', count(*) FROM staging.penalties
    UNION ALL SELECT 'complaints', count(*) FROM staging.complaints
    UNION ALL SELECT 'licenses', count(*) FROM staging.licenses
    UNION ALL SELECT 'plans', count(*) FROM staging.plans
    UNION ALL SELECT 'inspections', count(*) FROM staging.inspections
    UNION ALL SELECT 'inspectors', count(*) FROM staging.inspectors
    UNION ALL SELECT 'conflicts', count(*) FROM staging.conflicts
)
SELECT f.source, f.files, f.raw_rows, coalesce(s.staged, 0) AS staged, coalesce(q.quarantined, 0) AS quarantined,
    f.rejected
FROM f LEFT JOIN q USING (source) LEFT JOIN s USING (source)
ORDER BY f.source;
