-- Months tiered up to $month with the model version that tiered each (已分类月份及其模型版本): the reference
-- month of the model monitoring is chosen from these.
SELECT month, min(model_version) AS model_version, count(*) AS enterprises
FROM tiers.enterprise_monthly
WHERE month <= $month
GROUP BY month
ORDER BY month;
