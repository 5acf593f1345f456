-- raw.{source}: every contract column as delivered (text), extras as JSON, and lineage (原始层); one table per
-- source, shaped from the contract (the empty _landed of lib/ingest/landing.py). A delivery is landed again
-- whole: its month is forgotten first (lib/core/sql.py delete_month), then each file, read into _landed, has
-- its personal IDs hashed and is inserted.
CREATE SCHEMA IF NOT EXISTS raw;
CREATE TABLE IF NOT EXISTS raw.{source} AS
SELECT
    *,
    NULL::DATE AS _delivery_month,
    NULL::VARCHAR AS _source_file,
    NULL::VARCHAR AS _file_sha256,
    NULL::TIMESTAMP AS _ingested_at
FROM _landed
LIMIT 0;

-- name: hash_pii
-- Replace a personal-ID column of the file being landed by its keyed hash, before anything is stored.
UPDATE _landed SET {column} = zs_pii_hash({column});

-- name: scrub_raw_line
-- Personal ID numbers inside the text of malformed rows of the file being landed become keyed hashes too,
-- before anything is stored (only malformed rows carry their line).
UPDATE _landed SET _raw_line = zs_pii_scrub(_raw_line) WHERE _raw_line IS NOT NULL;

-- name: insert
-- Land one file's rows in raw.{source} exactly as read, with lineage (原始层).
INSERT INTO raw.{source} BY NAME
SELECT
    *,
    $month::DATE AS _delivery_month,
    $file AS _source_file,
    $sha256 AS _file_sha256,
    $ingested_at::TIMESTAMP AS _ingested_at
FROM _landed;
