-- Tier mix of every month (各月分类结构) with the scorer and the policy version that produced it.
SELECT strftime(month, '%Y-%m') AS month, any_value(model_version) AS model_version,
       string_agg(DISTINCT coalesce(policy_version, 'not recorded'), ', ') AS policy_version, count(*) AS enterprises,
       count(*) FILTER (WHERE tier = 'A') / count(*) AS a, count(*) FILTER (WHERE tier = 'B') / count(*) AS b,
       count(*) FILTER (WHERE tier = 'C') / count(*) AS c, count(*) FILTER (WHERE tier = 'D') / count(*) AS d
FROM tiers.enterprise_monthly
GROUP BY month
ORDER BY month;
