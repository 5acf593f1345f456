-- Has anything ever been published from this warehouse?
SELECT count(*) > 0 FROM duckdb_tables() WHERE schema_name = 'audit' AND table_name = 'publish_log';
