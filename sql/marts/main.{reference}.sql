-- A reference table of the mart (参考代码表: towns, industries, …), copied from the package's reference CSV so
-- that it reads no file at query time and travels with the catalogue.
CREATE OR REPLACE TABLE {reference} AS SELECT * FROM read_csv($path, header = true, all_varchar = true);
COMMENT ON TABLE {reference} IS {comment};
