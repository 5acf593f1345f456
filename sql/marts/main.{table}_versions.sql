-- {table}_versions: every published version of a mart table (发布版本历史), the current and the superseded
-- ones, with the version number taken from the file name (v0001.parquet …): what readers saw before a month was
-- re-published.
-- Guarded like main.{table}.sql.
CREATE OR REPLACE VIEW {table}_versions AS
SELECT CAST(regexp_extract(t.filename, 'v(\d+)\.parquet$', 1) AS INTEGER) AS published_version, t.* EXCLUDE (filename)
FROM mart_home_guard() AS g,
    read_parquet({files}, union_by_name = true, hive_partitioning = false, filename = true) AS t
WHERE g.ok;
COMMENT ON VIEW {table}_versions IS {comment};
