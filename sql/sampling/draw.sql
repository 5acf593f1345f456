-- 双随机抽取, draw-v1 (design.md §6): stratified selection of the enterprises in _draw_frame(uscc, stratum).
-- k = the first 8 bytes of sha256("$seed|$plan_id|uscc") read big-endian as an unsigned 64-bit integer:
-- sha256() gives lowercase hex, so its first 16 characters behind '0x' cast exactly to UBIGINT.
-- In each stratum the n smallest (k, uscc) are taken, n coming from $strata/$sizes (computed in exact
-- decimal arithmetic by the caller). COLLATE C keeps comparisons byte-wise (the protocol's order) even on a
-- connection whose default collation is something else. u = k / 2^64 is for reading only; k is compared.
WITH keyed AS (
    SELECT
        uscc COLLATE C AS uscc,
        stratum COLLATE C AS stratum,
        CAST('0x' || left(sha256($seed || '|' || $plan_id || '|' || uscc), 16) AS UBIGINT) AS k
    FROM _draw_frame
), sizes AS (
    SELECT unnest($strata) COLLATE C AS stratum, unnest($sizes) AS n
), ranked AS (
    SELECT uscc, stratum, k, row_number() OVER (PARTITION BY stratum ORDER BY k, uscc) AS rank_in_stratum
    FROM keyed
)
SELECT r.uscc, r.stratum, r.k, CAST(r.k AS DOUBLE) / CAST(18446744073709551616 AS DOUBLE) AS u
FROM ranked r
JOIN sizes s ON s.stratum = r.stratum
WHERE r.rank_in_stratum <= s.n
ORDER BY r.k, r.uscc;
