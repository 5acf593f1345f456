-- audit.publish_log (发布日志): every publish to the mart, one version per changed table-month, as a signed
-- SHA-256 hash chain (lib/publish/log.py).
CREATE SCHEMA IF NOT EXISTS audit;
CREATE TABLE IF NOT EXISTS audit.publish_log (
    seq             BIGINT NOT NULL,    -- 1, 2, … in publish order
    mart_table      VARCHAR NOT NULL,
    month           DATE NOT NULL,
    version         INTEGER NOT NULL,   -- 1, 2, … per table and month: a re-published month is a new version
    file            VARCHAR NOT NULL,   -- the version's own file below mart/ (kept; never overwritten)
    file_sha256     VARCHAR NOT NULL,
    rows            BIGINT NOT NULL,
    fingerprint     VARCHAR NOT NULL,
    published_at    TIMESTAMP NOT NULL,
    prev_hash       VARCHAR NOT NULL,   -- entry_hash of the previous entry: the log is a hash chain
    entry_hash      VARCHAR NOT NULL,
    context         VARCHAR             -- JSON: policy version and files, "policy changed", a release of a month
);
-- Logs begun before entries carried a context keep their entries (hashed without it) and gain the column.
ALTER TABLE audit.publish_log ADD COLUMN IF NOT EXISTS context VARCHAR;
-- Ed25519 signature of entry_hash (lib/evidence/signing.py), appended in the same statement as the entry.
ALTER TABLE audit.publish_log ADD COLUMN IF NOT EXISTS signature VARCHAR;
ALTER TABLE audit.publish_log ADD COLUMN IF NOT EXISTS key_id VARCHAR;
COMMENT ON TABLE audit.publish_log IS 'Every publish to the mart, one version per changed table-month, as a SHA-256 hash chain (发布日志)';

-- name: append
-- One entry and its signature, in one statement: an entry is never in the log unsigned.
INSERT INTO audit.publish_log BY NAME SELECT
    $seq AS seq, $mart_table AS mart_table, $month AS month, $version AS version, $file AS file,
    $file_sha256 AS file_sha256, $rows AS rows, $fingerprint AS fingerprint, $published_at::TIMESTAMP AS published_at,
    $prev_hash AS prev_hash, $entry_hash AS entry_hash, $context AS context,
    $signature AS signature, $key_id AS key_id;

-- name: tail
-- The last entry (its hash is the next entry's previous hash).
SELECT seq, entry_hash FROM audit.publish_log ORDER BY seq DESC LIMIT 1;

-- name: all
-- Every entry in log order, as verify re-reads the chain.
SELECT seq, mart_table, strftime(month, '%Y-%m') AS month, version, file, file_sha256, rows, fingerprint,
    published_at, prev_hash, entry_hash, context, signature
FROM audit.publish_log
ORDER BY seq;

-- name: latest_version
-- The version of a table-month now in the mart (the latest published), if any.
SELECT version, file, file_sha256, fingerprint, entry_hash, context
FROM audit.publish_log
WHERE mart_table = $mart_table AND month = $month
ORDER BY seq DESC
LIMIT 1;

-- name: since
-- The publishes after entry $seq: which table-months a rerun re-published, as which version.
SELECT mart_table, strftime(month, '%Y-%m') AS month, version FROM audit.publish_log WHERE seq > $seq ORDER BY seq;

-- name: notes
-- Publish log entries that say more than "new content": a re-published version computed under changed policy
-- files (which ones), or a month released by an operator although expected sources were missing (why).
SELECT mart_table, strftime(month, '%Y-%m') AS month, version,
    array_to_string(CAST(json_extract(context, '$.policy_changed') AS VARCHAR[]), ', ') AS policy_changed,
    json_extract_string(context, '$.release.reason') AS release_reason
FROM audit.publish_log
WHERE json_extract(context, '$.policy_changed') IS NOT NULL OR json_extract(context, '$.release') IS NOT NULL
ORDER BY seq;

-- name: published_summary
-- What the mart holds: per table, the months published, the rows of the latest month, and how many months were
-- re-published as a later version (the earlier versions are kept).
SELECT mart_table, count(DISTINCT month) AS months, strftime(min(month), '%Y-%m'), strftime(max(month), '%Y-%m'),
    arg_max(rows, strftime(month, '%Y%m') || lpad(seq::VARCHAR, 12, '0')) AS latest_rows,
    count(DISTINCT month) FILTER (WHERE version > 1) AS republished_months
FROM audit.publish_log
GROUP BY ALL
ORDER BY mart_table;
