-- A new batch gets its final name (the name of its files) and its entry in publicity.result_batches.
UPDATE publicity.result_batch_rows SET batch_id = $batch_id WHERE batch_id = $pending;
INSERT INTO publicity.result_batches VALUES (
    $batch_id, $month, $source_file, $file_sha256, $row_count, $arrived_on, $rows_without_recorded_on,
    $published_on, $publication_basis, $late_rows, $utf8_sha256, $gb18030_sha256, $published_at::TIMESTAMP
);
