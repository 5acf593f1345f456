-- Rule related_party_contagion (关联企业风险传导): an enterprise entered tier $tier (or riskier) in M - tiered
-- safer than it in M-1, or new in M - and every OTHER enterprise tiered in M with the same legal
-- representative (keyed hash, registry as of M) and itself still safer than $tier is warned. Without any tier
-- of M-1 (the first month built) nobody can be said to have entered a tier, so the rule stays silent.
INSERT INTO _ew_fired
WITH now AS (
    SELECT uscc, tier FROM tiers.enterprise_monthly WHERE month = $month
),
prev AS (
    SELECT uscc, tier FROM tiers.enterprise_monthly WHERE month = $prev_month
),
-- Registry versions as of M: delivered by M, dated by its end; the latest gives name and legal representative.
registry AS (
    SELECT uscc, name, legal_rep_hash, record_date, _delivery_month, _source_file, _row_number
    FROM staging.registry
    WHERE _delivery_month <= $month AND record_date <= $month_end
),
turned_ids AS (
    SELECT now.uscc, now.tier, prev.tier AS prev_tier
    FROM now
    LEFT JOIN prev ON prev.uscc = now.uscc
    WHERE instr('ABCD', now.tier) >= instr('ABCD', $tier)
        AND coalesce(instr('ABCD', prev.tier) < instr('ABCD', $tier), true)
        AND EXISTS (SELECT 1 FROM prev)
),
-- Only the enterprises that ever had a representative of a turned firm can share one now; their latest
-- versions are all that need ranking.
candidates AS (
    SELECT DISTINCT r.uscc
    FROM registry r
    WHERE r.legal_rep_hash IN (
        SELECT r2.legal_rep_hash FROM registry r2 SEMI JOIN turned_ids t ON t.uscc = r2.uscc)
),
reps AS (
    SELECT r.uscc, r.name, r.legal_rep_hash
    FROM registry r
    SEMI JOIN candidates c ON c.uscc = r.uscc
    QUALIFY row_number() OVER (PARTITION BY r.uscc
        ORDER BY r.record_date DESC, r._delivery_month DESC, r._source_file DESC, r._row_number DESC) = 1
),
turned AS (
    SELECT t.uscc, t.tier, t.prev_tier, reps.name, reps.legal_rep_hash
    FROM turned_ids t
    JOIN reps ON reps.uscc = t.uscc
)
SELECT
    o.uscc,
    'related_party_contagion',
    $severity,
    to_json({'firms_turned': list({'uscc': t.uscc, 'name': t.name, 'from': t.prev_tier, 'to': t.tier}
        ORDER BY t.uscc)})::VARCHAR,
    '同一法定代表人的' || string_agg(format('{}（{}）本月被列为{}类', t.name, t.uscc, t.tier), '；' ORDER BY t.uscc),
    $suggested_action
FROM reps o
JOIN now ON now.uscc = o.uscc
JOIN turned t ON t.legal_rep_hash = o.legal_rep_hash AND t.uscc <> o.uscc
WHERE instr('ABCD', now.tier) < instr('ABCD', $tier)
GROUP BY o.uscc;
