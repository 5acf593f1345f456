-- Replace one month of tiers (幂等重跑) with the frame registered as _tiers_frame, in a fixed row order.
DELETE FROM tiers.enterprise_monthly WHERE month = $month;
INSERT INTO tiers.enterprise_monthly BY NAME SELECT * FROM _tiers_frame ORDER BY uscc;
SELECT count(*) FROM tiers.enterprise_monthly WHERE month = $month;
