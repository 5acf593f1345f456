-- {table} in the mart catalogue (mart.duckdb), one view per mart table over its published monthly Parquet files,
-- guarded by mart_home_guard() (mart_home_guard.sql) so that a copied catalogue refuses instead of reading another
-- home. DuckDB cannot prepare DDL, so the path and comment arrive as escaped literals.
-- hive_partitioning off: the month=YYYY-MM folder names must not override the month column.
CREATE OR REPLACE VIEW {table} AS
SELECT t.* FROM mart_home_guard() AS g, read_parquet({files}, union_by_name = true, hive_partitioning = false) AS t
WHERE g.ok;
COMMENT ON VIEW {table} IS {comment};
