-- Everything a mart catalogue (mart.duckdb) defines, to compare with the catalogue the code builds: schemas,
-- tables, views with their SQL, macros, sequences, indexes, types, with their comments, and every column with its
-- type and comment (a column comment dropped or rewritten is a difference too).
SELECT 'schema' AS kind, database_name AS schema_name, schema_name AS name, sql, comment
FROM duckdb_schemas() WHERE NOT internal
UNION ALL
SELECT 'table', schema_name, table_name, sql, comment FROM duckdb_tables() WHERE NOT internal
UNION ALL
SELECT 'view', schema_name, view_name, sql, comment FROM duckdb_views() WHERE NOT internal
UNION ALL
SELECT 'macro', schema_name, function_name, CAST(macro_definition AS VARCHAR), comment
FROM duckdb_functions() WHERE NOT internal AND function_type IN ('macro', 'table_macro')
UNION ALL
SELECT 'sequence', schema_name, sequence_name, sql, comment FROM duckdb_sequences()
UNION ALL
SELECT 'index', schema_name, index_name, sql, comment FROM duckdb_indexes()
UNION ALL
SELECT 'type', schema_name, type_name, logical_type, comment FROM duckdb_types() WHERE NOT internal
UNION ALL
SELECT 'column', schema_name, table_name || '.' || column_name, data_type, comment FROM duckdb_columns() WHERE NOT internal
ORDER BY ALL;
