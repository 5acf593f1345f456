-- The month before, the reference of month-over-month drift.
SELECT * FROM {schema}.{table} WHERE {month_column} = $month - INTERVAL 1 MONTH;
