-- The indicator catalogue's rows as the mart holds them (compared with the shipped reference file).
SELECT 'indicators' AS schema_name, 'indicators' AS name, to_json(i)::VARCHAR AS sql, NULL AS comment
FROM indicators AS i
ORDER BY ALL;
