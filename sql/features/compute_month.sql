-- The month's features, computed once into a temporary table from the bound feature query
-- (sql/features/enterprise_monthly.sql with $month, $month_end, $entity_types; lib/features/enterprise_monthly.py registers
-- it as _features_query).
CREATE OR REPLACE TEMP TABLE _features_month AS SELECT * FROM _features_query;
