-- Audit evidence and the publish log (审计留痕与发布日志), in the pipeline's warehouse.
CREATE SCHEMA IF NOT EXISTS audit;
CREATE TABLE IF NOT EXISTS audit.audits (
    table_name      VARCHAR NOT NULL,   -- schema.table in the warehouse
    month           DATE NOT NULL,
    check_name      VARCHAR NOT NULL,
    fingerprint     VARCHAR NOT NULL,   -- content hash of exactly the rows that were checked
    rows            BIGINT NOT NULL,
    passed          BOOLEAN NOT NULL,
    detail          JSON,
    checked_at      TIMESTAMP NOT NULL
);
COMMENT ON TABLE audit.audits IS 'Results of blocking checks, bound to the content they checked (审计结果)';
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
CREATE SEQUENCE IF NOT EXISTS audit.deliveries_seq;
CREATE TABLE IF NOT EXISTS audit.deliveries (
    seq             BIGINT NOT NULL DEFAULT nextval('audit.deliveries_seq'),
    month           DATE NOT NULL,      -- the delivery month checked
    checked_at      TIMESTAMP NOT NULL,
    missing         VARCHAR NOT NULL,   -- JSON list of {source, folder, problem}: what config/deliveries.yaml expected
    released        BOOLEAN NOT NULL,   -- an operator released the month despite the missing sources
    release_reason  VARCHAR,            -- the operator's reason, required for a release
    run_id          VARCHAR
);
COMMENT ON TABLE audit.deliveries IS 'Every check of a month''s expected deliveries, and every release of a month with missing sources (月度数据交付核查与放行记录)';
