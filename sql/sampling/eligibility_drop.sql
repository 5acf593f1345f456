-- The temporary tables of sql/sampling/eligibility.sql, once read (or after a failure).
DROP TABLE IF EXISTS temp._eligibility_candidates;
DROP TABLE IF EXISTS temp._eligibility_tasks;
DROP TABLE IF EXISTS temp._eligibility_inspectors;
