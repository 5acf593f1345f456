SELECT seq, entry_hash FROM audit.publish_log ORDER BY seq DESC LIMIT 1;
