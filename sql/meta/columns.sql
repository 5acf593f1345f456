-- Column schema and comment of one table, for asset metadata.
SELECT c.column_name, c.data_type, c.is_nullable, t.comment
FROM information_schema.columns c
LEFT JOIN duckdb_tables() t ON t.schema_name = c.table_schema AND t.table_name = c.table_name
WHERE c.table_schema = $schema AND c.table_name = $table
ORDER BY c.ordinal_position;
