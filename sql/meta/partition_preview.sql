-- The first rows of one month's slice of a table, in a stable order, for the asset preview.
SELECT * FROM {schema}.{table} WHERE {month_column} = $month ORDER BY ALL LIMIT 5;
