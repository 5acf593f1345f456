INSERT INTO audit.publish_log VALUES (
    $seq, $mart_table, $month, $version, $file, $file_sha256, $rows, $fingerprint, $published_at::TIMESTAMP,
    $prev_hash, $entry_hash
);
