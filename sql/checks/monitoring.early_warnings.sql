-- Rows of month $month of monitoring.early_warnings that break the table's contract, as (uscc, rule, problem):
-- unknown rule or severity, evidence not a JSON object, no Chinese evidence or action, one (month, uscc, rule)
-- twice, an enterprise not tiered in M or carrying another tier, to_trigger_queue other than "tier A or B".
WITH m AS (
    SELECT * FROM monitoring.early_warnings WHERE month = $month
),
t AS (
    SELECT uscc, tier FROM tiers.enterprise_monthly WHERE month = $month
)
SELECT uscc, rule, problem FROM (
    SELECT uscc, rule, 'unknown rule' AS problem FROM m WHERE NOT list_contains($rules, rule)
    UNION ALL
    SELECT uscc, rule, 'unknown severity ' || severity FROM m WHERE NOT list_contains($severities, severity)
    UNION ALL
    SELECT uscc, rule, 'evidence is not a JSON object'
    FROM m WHERE NOT coalesce(json_valid(evidence) AND starts_with(ltrim(evidence), '{'), false)
    UNION ALL
    SELECT uscc, rule, 'no Chinese evidence or suggested action'
    FROM m WHERE NOT regexp_matches(evidence_zh, '[\x{4e00}-\x{9fff}]')
        OR NOT regexp_matches(suggested_action, '[\x{4e00}-\x{9fff}]')
    UNION ALL
    SELECT uscc, rule, 'duplicate: ' || count(*) || ' rows' FROM m GROUP BY uscc, rule HAVING count(*) > 1
    UNION ALL
    SELECT m.uscc, m.rule, 'not tiered in the month' FROM m ANTI JOIN t ON t.uscc = m.uscc
    UNION ALL
    SELECT m.uscc, m.rule, 'tier ' || m.tier || ' but tiered ' || t.tier FROM m JOIN t ON t.uscc = m.uscc
    WHERE m.tier <> t.tier
    UNION ALL
    SELECT uscc, rule, 'to_trigger_queue is not "tier A or B"' FROM m
    WHERE to_trigger_queue IS DISTINCT FROM (tier IN ('A', 'B'))
)
ORDER BY uscc, rule, problem;
