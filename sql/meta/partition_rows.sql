-- Rows of one month's slice of a table.
SELECT count(*) FROM {schema}.{table} WHERE {month_column} = $month;
