INSERT INTO raw.landing_files VALUES (
    $source, $month::DATE, $file, $sha256, $size_bytes, $format, $encoding, $status,
    $error_code, $error_message, $rows_read, $ingested_at::TIMESTAMP
);
