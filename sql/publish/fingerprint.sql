-- Content hash of one month of a table: SHA-256 over the sorted SHA-256 of every row, so it does not
-- depend on storage order. Used to bind a check result to exactly the rows that were checked.
SELECT count(*) AS rows, sha256(coalesce(string_agg(h, '' ORDER BY h), '')) AS fingerprint
FROM (SELECT sha256(CAST(t AS VARCHAR)) AS h FROM {schema}.{table} t WHERE {month_column} = $month);
