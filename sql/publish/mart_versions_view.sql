-- Every published version of a mart table (发布版本历史), the current and the superseded ones, with the
-- version number taken from the file name (v0001.parquet …): what readers saw before a month was re-published.
CREATE OR REPLACE VIEW {name} AS
SELECT CAST(regexp_extract(filename, 'v(\d+)\.parquet$', 1) AS INTEGER) AS published_version, * EXCLUDE (filename)
FROM read_parquet({files}, union_by_name = true, hive_partitioning = false, filename = true);
COMMENT ON VIEW {name} IS {comment};
