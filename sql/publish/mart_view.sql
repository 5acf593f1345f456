-- A mart table: a view over its published monthly Parquet files. DuckDB cannot prepare DDL, so the
-- path and comment arrive as escaped literals.
CREATE OR REPLACE VIEW {name} AS SELECT * FROM read_parquet({files}, union_by_name = true);
COMMENT ON VIEW {name} IS {comment};
