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
