-- The one-public batches of delivery month $month (随到随公示批次), in publication order.
SELECT batch_id, source_file, file_sha256, row_count, published_on, late_rows, utf8_sha256, gb18030_sha256
FROM publicity.result_batches
WHERE month = $month
ORDER BY published_on, batch_id;
