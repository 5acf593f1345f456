-- One month of a table, as the checks see it.
SELECT * FROM {schema}.{table} WHERE {month_column} = $month;
