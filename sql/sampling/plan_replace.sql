-- Replace one plan's rows of sampling.plan with the package content registered as _plan_rows.
DELETE FROM sampling.plan WHERE plan_id = $plan_id;
INSERT INTO sampling.plan BY NAME SELECT * FROM _plan_rows ORDER BY task_no;
SELECT count(*) FROM sampling.plan WHERE plan_id = $plan_id;
