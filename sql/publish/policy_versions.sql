-- The policy versions one month of a published table was computed with (one, when the month is consistent).
SELECT DISTINCT policy_version FROM {schema}.{table} WHERE {month_column} = $month ORDER BY 1;
