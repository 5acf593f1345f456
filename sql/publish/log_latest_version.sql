-- The version of a table-month now in the mart (the latest published), if any.
SELECT version, file, file_sha256, fingerprint, entry_hash, context
FROM audit.publish_log
WHERE mart_table = $mart_table AND month = $month
ORDER BY seq DESC
LIMIT 1;
