-- Tasks per plan loaded into sampling.plan (a plan is loaded only from its written package).
SELECT plan_id, count(*) FROM sampling.plan GROUP BY plan_id;
