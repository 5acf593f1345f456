-- One month of a table, in a stable order, as it will be published.
SELECT * FROM {schema}.{table} WHERE {month_column} = $month ORDER BY ALL;
