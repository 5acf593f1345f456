-- Achieved sample per stratum against the protocol's n_h (抽取数量核对), for the plans drawn from tier month
-- $month: every stratum of the frame must have exactly sample_size enterprises in sampling.plan.
WITH expected AS (
    SELECT DISTINCT plan_id, stratum, sample_size FROM sampling.frame WHERE month = $month
), achieved AS (
    SELECT plan_id, stratum, count(*) AS drawn FROM sampling.plan WHERE month = $month GROUP BY ALL
)
SELECT coalesce(e.plan_id, a.plan_id) AS plan_id, coalesce(e.stratum, a.stratum) AS stratum,
       coalesce(e.sample_size, 0) AS expected, coalesce(a.drawn, 0) AS drawn
FROM expected e
FULL JOIN achieved a ON a.plan_id = e.plan_id AND a.stratum = e.stratum
WHERE coalesce(e.sample_size, 0) <> coalesce(a.drawn, 0)
ORDER BY 1, 2;
