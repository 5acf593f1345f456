-- A mart table: a view over its published monthly Parquet files. DuckDB cannot prepare DDL, so the
-- path and comment arrive as escaped literals.
-- hive_partitioning off: the month=YYYY-MM folder names must not override the month column.
CREATE OR REPLACE VIEW {name} AS SELECT * FROM read_parquet({files}, union_by_name = true, hive_partitioning = false);
COMMENT ON VIEW {name} IS {comment};
