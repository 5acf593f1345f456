-- Violations of the enterprise dimension of $month (blocking before its publish): one row per enterprise, as many
-- enterprises as the registry knows by the month's end (counted independently), a known section letter.
WITH known AS (
    SELECT count(DISTINCT uscc) AS n FROM staging.registry
    WHERE _delivery_month <= $month AND record_date <= $month_end
),
mine AS (SELECT * FROM reporting.enterprises WHERE month = $month)
SELECT uscc, 'appears ' || count(*) || ' times' AS problem FROM mine GROUP BY uscc HAVING count(*) > 1
UNION ALL
SELECT uscc, 'industry code ' || industry_code || ' has no section letter A-T'
FROM mine WHERE NOT regexp_matches(industry_section, '^[A-T]$')
UNION ALL
SELECT NULL, (SELECT count(*) FROM mine) || ' rows, but the registry knows ' || n || ' enterprises by month end'
FROM known WHERE n <> (SELECT count(*) FROM mine)
ORDER BY ALL;
