-- Replace one month of features.enterprise_monthly with the freshly computed rows. The caller runs this in
-- the transaction that computed them, so readers see the old month or the new one, never a mix.
DELETE FROM features.enterprise_monthly WHERE month = $month;
INSERT INTO features.enterprise_monthly BY NAME SELECT * FROM _features_month ORDER BY uscc;
SELECT count(*) FROM features.enterprise_monthly WHERE month = $month;
