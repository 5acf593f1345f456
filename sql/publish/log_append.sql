INSERT INTO audit.publish_log BY NAME SELECT
    $seq AS seq, $mart_table AS mart_table, $month AS month, $version AS version, $file AS file,
    $file_sha256 AS file_sha256, $rows AS rows, $fingerprint AS fingerprint, $published_at::TIMESTAMP AS published_at,
    $prev_hash AS prev_hash, $entry_hash AS entry_hash, $context AS context,
    $signature AS signature, $key_id AS key_id;
