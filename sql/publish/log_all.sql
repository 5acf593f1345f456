SELECT seq, mart_table, strftime(month, '%Y-%m') AS month, version, file, file_sha256, rows, fingerprint,
    published_at, prev_hash, entry_hash, context, signature
FROM audit.publish_log
ORDER BY seq;
