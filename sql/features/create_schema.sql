-- The features layer (特征层) and its monthly table, shaped like the feature query when first created.
CREATE SCHEMA IF NOT EXISTS features;
CREATE TABLE IF NOT EXISTS features.enterprise_monthly AS SELECT * FROM _features_month WITH NO DATA;
