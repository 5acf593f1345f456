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
    entry_hash      VARCHAR NOT NULL
);
COMMENT ON TABLE audit.publish_log IS 'Every publish to the mart, one version per changed table-month, as a SHA-256 hash chain (发布日志)';
