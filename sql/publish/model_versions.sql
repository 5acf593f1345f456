-- The models that computed a month's rows of a published table (for the publish log entry).
SELECT DISTINCT {model_column} FROM {schema}.{table} WHERE {month_column} = $month ORDER BY 1;
