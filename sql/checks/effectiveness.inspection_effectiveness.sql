-- Rows of month $month of effectiveness.inspection_effectiveness that break the table's contract, as
-- (cut, key, problem): an unknown cut, a (cut, key) twice, a missing all / targeted / city row; a negative count,
-- more problems than inspections or firms than problems; per_100 other than 100 × problems / inspections; a rate
-- or share outside [0, 1] or outside its own bounds, a negative lift or one outside its bounds, a city estimate on
-- another row or an empty one without its reason; the trigger, plan, department and tier cuts not adding up to
-- the month's inspections, nor random_tier to its random ones, nor targeted and city within them; and the
-- month's inspections other than those staged (dated in M, delivered by its end), counted independently.
WITH m AS (
    SELECT * FROM effectiveness.inspection_effectiveness WHERE month = $month
), total AS (
    SELECT coalesce(max(inspections), 0) AS n, coalesce(max(problems_found), 0) AS found FROM m WHERE cut = 'all'
), random AS (
    SELECT coalesce(max(inspections), 0) AS n, coalesce(max(problems_found), 0) AS found
    FROM m WHERE cut = 'trigger' AND key = 'random'
), staged AS (
    SELECT count(*) AS n, count(*) FILTER (WHERE problem_found) AS found
    FROM staging.inspections
    WHERE inspected_on BETWEEN $month AND $month_end AND _delivery_month <= $month
), sums AS (
    SELECT cut, sum(inspections) AS n, sum(problems_found) AS found FROM m GROUP BY cut
)
SELECT cut, key, problem FROM (
    SELECT cut, key, 'unknown cut' AS problem FROM m WHERE NOT list_contains($cuts, cut)
    UNION ALL
    SELECT cut, key, 'duplicate: ' || count(*) || ' rows' FROM m GROUP BY cut, key HAVING count(*) > 1
    UNION ALL
    SELECT u.cut, NULL, 'no ' || u.cut || ' row'
    FROM (VALUES ('all'), ('targeted'), ('city')) u(cut) ANTI JOIN m ON m.cut = u.cut
    UNION ALL
    SELECT cut, key, 'negative count' FROM m WHERE least(inspections, problems_found, firms_found) < 0
    UNION ALL
    SELECT cut, key, 'more problems than inspections' FROM m WHERE problems_found > inspections
    UNION ALL
    SELECT cut, key, 'more firms found than problems' FROM m WHERE firms_found > problems_found
    UNION ALL
    SELECT cut, key, 'per_100 is not 100 × problems_found / inspections' FROM m
    WHERE CASE WHEN inspections = 0 THEN per_100 IS NOT NULL
        ELSE per_100 IS NULL OR abs(per_100 - 100.0 * problems_found / inspections) > 1e-9 END
    UNION ALL
    SELECT cut, key, 'rate or share outside [0, 1]' FROM m
    WHERE NOT list_bool_and(list_transform(
        list_filter([rate, rate_low, rate_high, share_reached, share_reached_low, share_reached_high],
            lambda v: v IS NOT NULL), lambda v: v BETWEEN 0 AND 1))
    UNION ALL
    SELECT cut, key, 'rate outside its interval' FROM m
    WHERE rate IS NOT NULL AND NOT (rate_low <= rate AND rate <= rate_high AND rate_se >= 0)
    UNION ALL
    SELECT cut, key, 'share_reached outside its interval' FROM m
    WHERE share_reached IS NOT NULL AND NOT (share_reached_low <= share_reached AND share_reached <= share_reached_high)
    UNION ALL
    SELECT cut, key, 'lift negative or outside its interval' FROM m
    WHERE lift IS NOT NULL AND NOT (lift_low >= 0 AND lift_low <= lift AND lift <= coalesce(lift_high, 'inf'::DOUBLE))
    UNION ALL
    SELECT cut, key, 'a city estimate on a row other than city' FROM m
    WHERE cut <> 'city' AND (rate IS NOT NULL OR population IS NOT NULL)
    UNION ALL
    SELECT cut, key, 'no city rate and no reason given' FROM m WHERE cut = 'city' AND rate IS NULL AND note IS NULL
    UNION ALL
    SELECT u.cut, NULL, coalesce(s.n, 0) || ' inspections and ' || coalesce(s.found, 0) || ' problems, but the '
        || 'month has ' || t.n || ' and ' || t.found
    FROM (VALUES ('trigger'), ('plan'), ('department'), ('tier')) u(cut)
    CROSS JOIN total t
    LEFT JOIN sums s ON s.cut = u.cut
    WHERE coalesce(s.n, 0) <> t.n OR coalesce(s.found, 0) <> t.found
    UNION ALL
    SELECT 'random_tier', NULL, coalesce(s.n, 0) || ' random inspections by tier, but ' || r.n || ' random ones'
    FROM random r LEFT JOIN sums s ON s.cut = 'random_tier'
    WHERE coalesce(s.n, 0) <> r.n OR coalesce(s.found, 0) <> r.found
    UNION ALL
    SELECT m.cut, m.key, 'more inspections than the month''s random ones' FROM m, random r
    WHERE m.cut IN ('targeted', 'city') AND m.inspections > r.n
    UNION ALL
    SELECT 'all', 'all', t.n || ' inspections and ' || t.found || ' problems, but ' || s.n || ' and ' || s.found
        || ' were staged for the month'
    FROM total t, staged s WHERE t.n <> s.n OR t.found <> s.found
)
ORDER BY ALL;
