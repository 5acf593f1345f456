-- Does the publish log carry a version per entry (every release since versions were introduced)?
SELECT count(*) > 0 FROM duckdb_columns()
WHERE schema_name = 'audit' AND table_name = 'publish_log' AND column_name = 'version';
