-- The one-public batches (随到随公示批次): every inspections landing file published as it arrives, once, never
-- rewritten. publicity.result_batches has one row per published batch, publicity.result_batch_rows its results.
CREATE SCHEMA IF NOT EXISTS publicity;
CREATE TABLE IF NOT EXISTS publicity.result_batches (
    batch_id                VARCHAR NOT NULL,   -- <published_on>_<file stem>[_<sha256 prefix>]: the files' name
    month                   DATE NOT NULL,      -- delivery month M: the landing folder of the file
    source_file             VARCHAR NOT NULL,   -- landing file below landing/
    file_sha256             VARCHAR NOT NULL,   -- the file's bytes as published: other bytes are another batch
    row_count               INTEGER NOT NULL,   -- results published
    arrived_on              DATE NOT NULL,      -- latest 录入日期 of its rows (the ingestion day for rows without)
    rows_without_recorded_on INTEGER NOT NULL,  -- rows dated by the ingestion day instead
    published_on            DATE NOT NULL,      -- 公示日期: the first working day after arrived_on
    publication_basis       VARCHAR NOT NULL,   -- statutory | configured | weekends_only (calendar of that day)
    late_rows               INTEGER NOT NULL,   -- rows published after their deadline (是否超期 = 是)
    utf8_sha256             VARCHAR NOT NULL,   -- SHA-256 of the published UTF-8 file
    gb18030_sha256          VARCHAR NOT NULL,   -- SHA-256 of the published GB18030 file
    published_at            TIMESTAMP NOT NULL  -- when zs-risk wrote the files (UTC)
);
COMMENT ON TABLE publicity.result_batches IS 'One-public batches: each inspections landing file published on arrival, immutable, with publication date and late rows (一公开随到随公示批次)';

-- name: of_month
-- The one-public batches of delivery month $month (随到随公示批次), in publication order.
SELECT batch_id, source_file, file_sha256, row_count, published_on, late_rows, utf8_sha256, gb18030_sha256
FROM publicity.result_batches
WHERE month = $month
ORDER BY published_on, batch_id;

-- name: record
-- A new batch gets its final name (the name of its files) and its entry in publicity.result_batches.
UPDATE publicity.result_batch_rows SET batch_id = $batch_id WHERE batch_id = $pending;
INSERT INTO publicity.result_batches VALUES (
    $batch_id, $month, $source_file, $file_sha256, $row_count, $arrived_on, $rows_without_recorded_on,
    $published_on, $publication_basis, $late_rows, $utf8_sha256, $gb18030_sha256, $published_at::TIMESTAMP
);
