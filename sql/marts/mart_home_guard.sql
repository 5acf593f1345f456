-- The home guard of the mart's views (集市位置校验): the views name their files by absolute path, so a copied,
-- moved or restored mart.duckdb would silently read the original home's files. Every view joins this one-row
-- macro, which raises {message} unless the database file open is the one the catalogue was built for. DuckDB
-- reports an attached file's path absolute (even when opened by a relative name), as given, so both the
-- absolute and the symlink-resolved paths of the mart count.
CREATE OR REPLACE MACRO mart_home_guard() AS TABLE
SELECT CASE WHEN count(*) > 0 THEN true ELSE error({message}) END AS ok
FROM duckdb_databases()
WHERE path IN ({path}, {resolved_path});
COMMENT ON MACRO TABLE mart_home_guard IS {key};
