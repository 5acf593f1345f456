-- Late results (超期公示) per exported month: since results are published on arrival, each one was delivered late.
SELECT strftime(month, '%Y-%m') AS month, count(*) AS rows, count(*) FILTER (WHERE late) AS late
FROM publicity.inspection_results
GROUP BY ALL
ORDER BY month;
