-- Rule tier_jump (分类跃升): the tier of M is at least $min_levels steps riskier than the tier of M-1
-- (A < B < C < D). A firm without a tier in M-1 (new, or M-1 never built) has nothing to jump from. The
-- evidence names the model of both months: a jump in the month the serving model changed may be the model's
-- doing rather than the firm's, and staff should see which.
INSERT INTO _ew_fired
SELECT
    now.uscc,
    'tier_jump',
    $severity,
    to_json({'from': prev.tier, 'to': now.tier, 'levels': instr('ABCD', now.tier) - instr('ABCD', prev.tier),
        'model_changed': now.model_version <> prev.model_version, 'model_from': prev.model_version,
        'model_to': now.model_version})::VARCHAR,
    format('风险分类由{}类升至{}类（上升{}级）', prev.tier, now.tier, instr('ABCD', now.tier) - instr('ABCD', prev.tier))
        || CASE WHEN now.model_version <> prev.model_version THEN '；本月分类模型已更换，请结合模型变化研判' ELSE '' END,
    $suggested_action
FROM tiers.enterprise_monthly now
JOIN tiers.enterprise_monthly prev ON prev.uscc = now.uscc AND prev.month = $prev_month
WHERE now.month = $month AND instr('ABCD', now.tier) - instr('ABCD', prev.tier) >= $min_levels;
