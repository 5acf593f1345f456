-- audit.audits (审计结果): the verdict of every blocking check of a table-month, bound to a fingerprint of exactly
-- the rows it checked; the publish requires the latest verdict of each required check to pass on the rows it
-- exports.
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

-- name: record
-- One check's verdict on one month of a table.
INSERT INTO audit.audits VALUES (
    $table_name, $month, $check_name, $fingerprint, $rows, $passed, $detail::JSON, $checked_at::TIMESTAMP
);

-- name: latest
-- The latest result of each check of one month of a table.
SELECT check_name, fingerprint, passed, rows, checked_at
FROM audit.audits
WHERE table_name = $table_name AND month = $month
-- rowid breaks ties between results recorded within the same clock tick: the later insert wins.
QUALIFY row_number() OVER (PARTITION BY check_name ORDER BY checked_at DESC, rowid DESC) = 1
ORDER BY check_name;

-- name: fingerprint
-- Content fingerprint of one month of a table, binding a check's verdict to exactly the rows it checked (the
-- publish compares it with the rows it is about to export). It must not depend on storage order and must be
-- cheap enough to take once per check: DuckDB's 64-bit row hash, combined as an XOR and as a 128-bit sum (so
-- duplicated rows do not cancel out), with the row count, under SHA-256. Not a tamper seal: the published
-- files carry a real SHA-256 in the hash-chained publish log.
SELECT count(*) AS rows,
    sha256(concat_ws(':', count(*), coalesce(bit_xor(hash(t)), 0), coalesce(sum(hash(t)::HUGEINT), 0)))
        AS fingerprint
FROM {schema}.{table} t
WHERE {month_column} = $month;
