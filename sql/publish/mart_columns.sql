-- Every column of the mart catalogue's views and tables with its comment (what the column documentation covers).
SELECT table_name, column_name, comment
FROM duckdb_columns()
WHERE NOT internal AND database_name = current_database() AND schema_name = 'main'
ORDER BY table_name, column_index;
