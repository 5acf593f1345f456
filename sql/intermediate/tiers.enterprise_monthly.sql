-- Monthly credit-risk tiers (企业信用风险分类结果): internal reference data, never published to the public.
CREATE SCHEMA IF NOT EXISTS tiers;
CREATE TABLE IF NOT EXISTS tiers.enterprise_monthly (
    month               DATE NOT NULL,      -- the month tiered (its first day)
    uscc                VARCHAR NOT NULL,   -- one row per enterprise alive at month end
    model_version       VARCHAR NOT NULL,   -- registry model id, or scorecard-v<version>-<config sha>
    model_kind          VARCHAR NOT NULL,   -- lightgbm | scorecard
    score               DOUBLE NOT NULL,    -- raw score: LightGBM log-odds margin, or scorecard points
    probability         DOUBLE NOT NULL,    -- calibrated probability that an inspection finds a problem
    points              DOUBLE NOT NULL,    -- PDO points (config/scorecard.yaml scaling), higher = riskier
    tier_by_score       VARCHAR NOT NULL,   -- A/B/C/D from the score alone
    tier                VARCHAR NOT NULL,   -- A/B/C/D after the hard overrides
    override            VARCHAR,            -- name of the override that decided the tier, if any
    override_reason_zh  VARCHAR,
    override_reason_en  VARCHAR,
    reason_1 VARCHAR, reason_1_zh VARCHAR, reason_1_en VARCHAR, reason_1_value DOUBLE, reason_1_points DOUBLE,
    reason_2 VARCHAR, reason_2_zh VARCHAR, reason_2_en VARCHAR, reason_2_value DOUBLE, reason_2_points DOUBLE,
    reason_3 VARCHAR, reason_3_zh VARCHAR, reason_3_en VARCHAR, reason_3_value DOUBLE, reason_3_points DOUBLE,
    policy_version      VARCHAR             -- version of the policy files the month was tiered with (lib/policy/versions.py)
);
-- Homes tiered before policy versions were recorded get the column (NULL for those months until rerun).
ALTER TABLE tiers.enterprise_monthly ADD COLUMN IF NOT EXISTS policy_version VARCHAR;
COMMENT ON TABLE tiers.enterprise_monthly IS 'Monthly credit-risk tier A/B/C/D of every enterprise alive at month end, with score, probability, points, overrides and top-3 reasons; internal, never public (企业信用风险分类结果，内部参考，不对外公开)';
COMMENT ON COLUMN tiers.enterprise_monthly.tier IS 'Credit-risk tier after hard overrides: A low, B general, C higher, D high (信用风险分类：A低 B一般 C较高 D高)';
COMMENT ON COLUMN tiers.enterprise_monthly.points IS 'Risk points on the PDO scale of config/scorecard.yaml; higher is riskier (风险分值)';
COMMENT ON COLUMN tiers.enterprise_monthly.probability IS 'Calibrated probability that a random inspection finds a problem (检查发现问题概率)';
COMMENT ON COLUMN tiers.enterprise_monthly.model_version IS 'Model that scored the month: registry id or scorecard version (模型版本)';
COMMENT ON COLUMN tiers.enterprise_monthly.policy_version IS 'Version of the policy files (feature scope, scorecard, model, tier policy) the month was tiered with (政策口径版本)';
COMMENT ON COLUMN tiers.enterprise_monthly.reason_1 IS 'Strongest reason: indicator of the largest risk contribution or scorecard rule (首要原因指标)';

-- name: replace_month
-- Replace one month of tiers (幂等重跑) with the frame registered as _tiers_frame, in a fixed row order.
DELETE FROM tiers.enterprise_monthly WHERE month = $month;
INSERT INTO tiers.enterprise_monthly BY NAME SELECT * FROM _tiers_frame ORDER BY uscc;
SELECT count(*) FROM tiers.enterprise_monthly WHERE month = $month;

-- name: model_versions
-- Model versions that scored a month of tiers (模型版本核对): exactly one is expected.
SELECT model_version, model_kind, count(*) AS enterprises
FROM tiers.enterprise_monthly
WHERE month = $month
GROUP BY ALL
ORDER BY model_version;

-- name: mix_by_month
-- Tier mix of every month (各月分类结构) with the scorer and the policy version that produced it.
SELECT strftime(month, '%Y-%m') AS month, any_value(model_version) AS model_version,
       string_agg(DISTINCT coalesce(policy_version, 'not recorded'), ', ') AS policy_version, count(*) AS enterprises,
       count(*) FILTER (WHERE tier = 'A') / count(*) AS a, count(*) FILTER (WHERE tier = 'B') / count(*) AS b,
       count(*) FILTER (WHERE tier = 'C') / count(*) AS c, count(*) FILTER (WHERE tier = 'D') / count(*) AS d
FROM tiers.enterprise_monthly
GROUP BY month
ORDER BY month;

-- name: outcomes_by_tier
-- Problem-found rate by tier, out of time (分类与后续抽查结果): every random (双随机) inspection is matched with
-- the tier its enterprise held in the month before, and weighted 1/π of its plan, so the rate describes the
-- tier's whole population, not the sample. This is how the tiers of one month predicted the next month's
-- inspection findings.
SELECT
    t.tier,
    count(*) AS inspections,
    sum(i.problem_found::INTEGER) AS problems_found,
    sum(i.problem_found::INTEGER / p.inclusion_probability) / sum(1.0 / p.inclusion_probability) AS weighted_rate
FROM staging.inspections i
JOIN staging.plans p ON p.plan_id = i.plan_id AND p.kind = 'random' AND p.inclusion_probability > 0
JOIN tiers.enterprise_monthly t
    ON t.uscc = i.uscc AND t.month = (date_trunc('month', i.inspected_on) - INTERVAL 1 MONTH)::DATE
WHERE i.trigger = 'random'
GROUP BY t.tier
ORDER BY t.tier;
