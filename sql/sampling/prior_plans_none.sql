-- No sampling.plan yet (a fresh warehouse, or the months before the first draw): no earlier draws of ours.
CREATE OR REPLACE TEMP VIEW _sampling_prior AS
SELECT CAST(NULL AS VARCHAR) AS plan_id, CAST(NULL AS VARCHAR) AS uscc
WHERE false;
