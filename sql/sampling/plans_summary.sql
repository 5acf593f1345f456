-- Drawn plans by the month they are carried out (双随机抽查计划汇总): plans, tasks, tasks with a pair.
SELECT strftime(month + INTERVAL 1 MONTH, '%Y-%m') AS plan_month, count(DISTINCT plan_id) AS plans,
       count(*) AS tasks, count(inspector_1) AS staffed
FROM sampling.plan
GROUP BY ALL
ORDER BY 1;
