-- Rule tier_jump (分类跃升): the tier of M is at least $min_levels steps riskier than the tier of M-1
-- (A < B < C < D). A firm without a tier in M-1 (new, or M-1 never built) has nothing to jump from.
INSERT INTO _ew_fired
SELECT
    now.uscc,
    'tier_jump',
    $severity,
    to_json({'from': prev.tier, 'to': now.tier, 'levels': instr('ABCD', now.tier) - instr('ABCD', prev.tier)})::VARCHAR,
    format('风险分类由{}类升至{}类（上升{}级）', prev.tier, now.tier, instr('ABCD', now.tier) - instr('ABCD', prev.tier)),
    $suggested_action
FROM tiers.enterprise_monthly now
JOIN tiers.enterprise_monthly prev ON prev.uscc = now.uscc AND prev.month = $prev_month
WHERE now.month = $month AND instr('ABCD', now.tier) - instr('ABCD', prev.tier) >= $min_levels;
