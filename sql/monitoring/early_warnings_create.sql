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
