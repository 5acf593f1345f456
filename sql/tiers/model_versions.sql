-- Model versions that scored a month of tiers (模型版本核对): exactly one is expected.
SELECT model_version, model_kind, count(*) AS enterprises
FROM tiers.enterprise_monthly
WHERE month = $month
GROUP BY ALL
ORDER BY model_version;
