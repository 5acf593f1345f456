-- The indicator catalogue (指标说明), so analysts can read what every feature means.
CREATE OR REPLACE TABLE indicators AS SELECT * FROM read_csv($path, header = true, all_varchar = true);
COMMENT ON TABLE indicators IS 'Indicator catalogue: English name, Chinese name, dimension, direction of risk (指标说明)';
