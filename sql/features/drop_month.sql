-- The temporary copy of the month computed by compute_month.sql, once written (or after a failure).
DROP TABLE IF EXISTS temp._features_month;
