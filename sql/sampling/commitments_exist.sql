-- Has this warehouse recorded seed commitments (drawn plans)?
SELECT count(*) > 0 FROM duckdb_tables() WHERE schema_name = 'sampling' AND table_name = 'commitments';
