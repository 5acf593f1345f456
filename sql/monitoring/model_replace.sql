-- Model monitoring of one month (模型监测结果), replacing the month with the rows registered as
-- _model_monitoring_rows in their computed order; the caller wraps this in one transaction.
CREATE SCHEMA IF NOT EXISTS monitoring;
CREATE TABLE IF NOT EXISTS monitoring.model_monitoring (
    month           DATE NOT NULL,      -- the tier month M monitored
    seq             INTEGER NOT NULL,   -- row order within the month
    metric          VARCHAR NOT NULL,   -- score_psi | score_psi_stratum | indicator_psi | tier_mix_psi | tier_share | problem_rate | tier_order | tier_order_verdict
    subject         VARCHAR NOT NULL,   -- what was measured: the score column, a stratum, an indicator, a tier, a pair of tiers
    value           DOUBLE,             -- PSI, share, weighted rate, z of an inversion, 1/0 for the verdict
    threshold       DOUBLE,             -- the value at which the status turns significant / inversion
    status          VARCHAR NOT NULL,   -- stable | moderate | significant | reported | too_few | rises | not_significant | inversion | pass | fail
    n               BIGINT,             -- current month's enterprises, or inspections for rates
    n_reference     BIGINT,             -- reference side's enterprises
    reference_month DATE,               -- the month compared with
    detail          JSON                -- critical values, bins, standard errors, share changes, notes
);
COMMENT ON TABLE monitoring.model_monitoring IS 'Monthly model monitoring: PSI of the score and key indicators against a reference month (sample-size-aware thresholds for small strata), tier-mix shift, problem-found rate by tier of the latest random inspections weighted 1/π, and the tier-ordering verdict; internal, holds tiers (模型监测：分值与指标稳定性、分类结构变化、分类别问题发现率与排序判定，内部)';
DELETE FROM monitoring.model_monitoring WHERE month = $month;
INSERT INTO monitoring.model_monitoring BY NAME
SELECT * FROM _model_monitoring_rows ORDER BY month, seq;
SELECT count(*) FROM monitoring.model_monitoring WHERE month = $month;
