-- A mart table: a view over its published monthly Parquet files, guarded by mart_home_guard() (mart_guard.sql)
-- so that a copied catalogue refuses instead of reading another home. DuckDB cannot prepare DDL, so the
-- path and comment arrive as escaped literals.
-- hive_partitioning off: the month=YYYY-MM folder names must not override the month column.
CREATE OR REPLACE VIEW {name} AS
SELECT t.* FROM mart_home_guard() AS g, read_parquet({files}, union_by_name = true, hive_partitioning = false) AS t
WHERE g.ok;
COMMENT ON VIEW {name} IS {comment};
