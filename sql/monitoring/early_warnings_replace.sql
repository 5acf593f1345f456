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
