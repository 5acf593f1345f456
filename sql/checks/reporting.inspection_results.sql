-- Violations of the inspection results of $month (blocking before their publish): one row per task, every staged
-- result of the delivery month present (counted independently), a known trigger, at least one result code.
WITH staged AS (SELECT count(*) AS n FROM staging.inspections WHERE _delivery_month = $month),
mine AS (SELECT * FROM reporting.inspection_results WHERE month = $month)
SELECT task_id, 'appears ' || count(*) || ' times' AS problem FROM mine GROUP BY task_id HAVING count(*) > 1
UNION ALL
SELECT task_id, 'unknown trigger ' || trigger FROM mine WHERE trigger NOT IN ('random', 'triggered', 'special')
UNION ALL
SELECT task_id, 'no result code' FROM mine WHERE len(result_codes) = 0
UNION ALL
SELECT NULL, (SELECT count(*) FROM mine) || ' rows, but ' || n || ' results were staged for the month'
FROM staged WHERE n <> (SELECT count(*) FROM mine)
ORDER BY ALL;
