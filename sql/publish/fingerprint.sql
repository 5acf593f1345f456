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
