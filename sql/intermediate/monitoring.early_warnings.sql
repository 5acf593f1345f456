-- Early warnings (预警信息): one row per (month, enterprise, rule) that fired for tier month M; internal.
CREATE SCHEMA IF NOT EXISTS monitoring;
CREATE TABLE IF NOT EXISTS monitoring.early_warnings (
    month            DATE NOT NULL,      -- the tier month M (its first day)
    uscc             VARCHAR NOT NULL,
    rule             VARCHAR NOT NULL,   -- a rule of config/warning_rules.yaml
    severity         VARCHAR NOT NULL,   -- high | medium | low
    tier             VARCHAR NOT NULL,   -- the enterprise's tier of M
    evidence         VARCHAR NOT NULL,   -- JSON text: the facts that fired the rule
    evidence_zh      VARCHAR NOT NULL,   -- the same facts as a short Chinese sentence
    suggested_action VARCHAR NOT NULL,   -- 建议措施, from the rule's configuration
    to_trigger_queue BOOLEAN NOT NULL,   -- tier A or B: the warning queues a triggered inspection
    policy_version   VARCHAR             -- version of the policy files the warnings were computed with
);
ALTER TABLE monitoring.early_warnings ADD COLUMN IF NOT EXISTS policy_version VARCHAR;
COMMENT ON TABLE monitoring.early_warnings IS 'Early warnings of the month by configurable rules (tier jumps, new list entries, complaint spikes, unreachable address, related-party contagion, expiring licences, frequent registry changes) with severity, evidence and suggested action; internal (企业风险预警信息，内部参考)';
COMMENT ON COLUMN monitoring.early_warnings.rule IS 'Rule that fired, see config/warning_rules.yaml (预警规则)';
COMMENT ON COLUMN monitoring.early_warnings.severity IS 'Severity of the rule: high, medium or low (预警等级)';
COMMENT ON COLUMN monitoring.early_warnings.evidence IS 'JSON text with the facts that fired the rule (预警依据)';
COMMENT ON COLUMN monitoring.early_warnings.evidence_zh IS 'The evidence as a Chinese sentence (预警依据说明)';
COMMENT ON COLUMN monitoring.early_warnings.policy_version IS 'Version of the policy files (tiers and warning rules) the warnings were computed with (政策口径版本)';
COMMENT ON COLUMN monitoring.early_warnings.to_trigger_queue IS 'Tier A or B: the warning triggers an inspection (列入触发式监管)';

-- name: fired
-- Scratch table the rule files (intermediate/warning_<rule>.sql) fill within the month's transaction;
-- #replace_month moves it.
CREATE OR REPLACE TEMP TABLE _ew_fired (
    uscc             VARCHAR NOT NULL,
    rule             VARCHAR NOT NULL,
    severity         VARCHAR NOT NULL,
    evidence         VARCHAR NOT NULL,
    evidence_zh      VARCHAR NOT NULL,
    suggested_action VARCHAR NOT NULL
);

-- name: replace_month
-- Replace month $month of monitoring.early_warnings with the rules' findings, kept only for enterprises
-- tiered in M (alive at month end, in scope); the tier of M decides whether a warning feeds the trigger queue.
DELETE FROM monitoring.early_warnings WHERE month = $month;
INSERT INTO monitoring.early_warnings BY NAME
SELECT $month AS month, f.uscc, f.rule, f.severity, t.tier, f.evidence, f.evidence_zh, f.suggested_action,
       t.tier IN ('A', 'B') AS to_trigger_queue, $policy_version AS policy_version
FROM _ew_fired f
JOIN tiers.enterprise_monthly t ON t.uscc = f.uscc AND t.month = $month
ORDER BY f.uscc, f.rule;
DROP TABLE _ew_fired;

-- name: by_rule
-- Warnings of month $month by rule and severity, with how many feed the trigger queue.
SELECT rule, severity, count(*), count(*) FILTER (WHERE to_trigger_queue)
FROM monitoring.early_warnings WHERE month = $month
GROUP BY rule, severity ORDER BY rule, severity;

-- name: by_tier
-- Warnings of month $month by the tier of the warned enterprise: enterprises warned and warnings.
SELECT tier, count(DISTINCT uscc), count(*)
FROM monitoring.early_warnings WHERE month = $month
GROUP BY tier ORDER BY tier;

-- name: queued_firms
-- Enterprises of month $month with at least one warning that feeds the trigger queue.
SELECT count(DISTINCT uscc) FROM monitoring.early_warnings WHERE month = $month AND to_trigger_queue;

-- name: examples
-- A few example warnings of month $month for the demo printout: the first enterprise (by uscc) of each rule,
-- the most severe rules first. No tier or score.
SELECT uscc, rule, evidence_zh
FROM monitoring.early_warnings
WHERE month = $month
QUALIFY row_number() OVER (PARTITION BY rule ORDER BY uscc) = 1
ORDER BY list_position(['high', 'medium', 'low'], severity), rule
LIMIT $n;
