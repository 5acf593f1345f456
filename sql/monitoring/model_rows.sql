-- The stored model monitoring of tier month $month (模型监测结果), in its row order.
SELECT month, seq, metric, subject, value, threshold, status, n, n_reference, reference_month, detail
FROM monitoring.model_monitoring
WHERE month = $month
ORDER BY seq;
