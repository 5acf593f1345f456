-- Catalogue introspection (目录查询): what a DuckDB catalogue holds, for asset metadata (the warehouse's tables)
-- and for building and verifying the mart catalogue (mart.duckdb).

-- name: columns
-- Column schema and comment of one table, for asset metadata.
SELECT c.column_name, c.data_type, c.is_nullable, t.comment
FROM information_schema.columns c
LEFT JOIN duckdb_tables() t ON t.schema_name = c.table_schema AND t.table_name = c.table_name
WHERE c.table_schema = $schema AND c.table_name = $table
ORDER BY c.ordinal_position;

-- name: column_comments
-- Column comments of one table (COMMENT ON COLUMN), for the column descriptions of asset metadata.
SELECT column_name, comment
FROM duckdb_columns()
WHERE schema_name = $schema AND table_name = $table AND comment IS NOT NULL AND comment <> '';

-- name: mart_columns
-- Every column of the mart catalogue's views and tables with its comment (what the column documentation covers).
SELECT table_name, column_name, comment
FROM duckdb_columns()
WHERE NOT internal AND database_name = current_database() AND schema_name = 'main'
ORDER BY table_name, column_index;

-- name: objects
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

-- name: rows
-- The rows of one reference table of the mart as it holds them (compared with the shipped reference file), each
-- keyed by its place in sorted order so that every row is compared, not only one per table.
SELECT '{name}' AS schema_name, '{name}#' || row_number() OVER (ORDER BY j) AS name, j AS sql, NULL AS comment
FROM (SELECT to_json(r)::VARCHAR AS j FROM {name} AS r);

-- name: key
-- The key of the inputs a mart catalogue was built from (publish.catalog_key), kept as its home guard's comment:
-- the next publish rebuilds the catalogue only when the key it computes differs.
SELECT comment FROM duckdb_functions()
WHERE function_name = 'mart_home_guard' AND database_name = current_database() AND schema_name = 'main';
