-- Column comments of one table (COMMENT ON COLUMN), for the column descriptions of asset metadata.
SELECT column_name, comment
FROM duckdb_columns()
WHERE schema_name = $schema AND table_name = $table AND comment IS NOT NULL AND comment <> '';
