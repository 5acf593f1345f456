-- Land one file's rows in raw.{source} exactly as read, with lineage (原始层).
INSERT INTO raw.{source} BY NAME
SELECT
    *,
    $month::DATE AS _delivery_month,
    $file AS _source_file,
    $sha256 AS _file_sha256,
    $ingested_at::TIMESTAMP AS _ingested_at
FROM _landed;
