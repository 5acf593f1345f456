-- Violations of the plan tasks of $month (blocking before their publish): one row per plan and enterprise, every
-- drawn task present (counted independently), each with the N, n and π of the frame it was drawn from.
WITH drawn AS (SELECT count(*) AS n FROM sampling.plan WHERE month = $month),
mine AS (SELECT * FROM reporting.inspection_plans WHERE month = $month)
SELECT plan_id || ' ' || uscc AS task, 'appears ' || count(*) || ' times' AS problem
FROM mine GROUP BY plan_id, uscc HAVING count(*) > 1
UNION ALL
SELECT plan_id || ' ' || uscc, 'not in the frame it was drawn from'
FROM mine WHERE stratum_frame_size IS NULL OR inclusion_probability IS NULL
UNION ALL
SELECT NULL, (SELECT count(*) FROM mine) || ' rows, but ' || n || ' tasks were drawn from the month''s tiers'
FROM drawn WHERE n <> (SELECT count(*) FROM mine)
ORDER BY ALL;
