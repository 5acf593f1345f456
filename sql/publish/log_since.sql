-- The publishes after entry $seq: which table-months a rerun re-published, as which version.
SELECT mart_table, strftime(month, '%Y-%m') AS month, version FROM audit.publish_log WHERE seq > $seq ORDER BY seq;
