-- The rows of one reference table of the mart as it holds them (compared with the shipped reference file), each
-- keyed by its place in sorted order so that every row is compared, not only one per table.
SELECT '{name}' AS schema_name, '{name}#' || row_number() OVER (ORDER BY j) AS name, j AS sql, NULL AS comment
FROM (SELECT to_json(r)::VARCHAR AS j FROM {name} AS r);
