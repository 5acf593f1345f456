-- Whether a table exists in the warehouse (a fresh home has no tiers yet).
SELECT count(*) > 0 FROM duckdb_tables() WHERE schema_name = $schema AND table_name = $table;
