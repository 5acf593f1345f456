-- The enterprises drawn for one plan (its tasks).
SELECT uscc FROM sampling.plan WHERE plan_id = $plan_id ORDER BY task_no;
