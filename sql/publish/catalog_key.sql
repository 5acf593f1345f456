-- The key of the inputs a mart catalogue was built from (publish.catalog_key), kept as its home guard's comment:
-- the next publish rebuilds the catalogue only when the key it computes differs.
SELECT comment FROM duckdb_functions()
WHERE function_name = 'mart_home_guard' AND database_name = current_database() AND schema_name = 'main';
