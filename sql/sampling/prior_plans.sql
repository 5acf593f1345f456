-- Enterprises of our own earlier draws (sampling.plan: one row per enterprise drawn, with its plan_id), so
-- that the frame can leave out anyone already drawn for the same plan in the same calendar year.
CREATE OR REPLACE TEMP VIEW _sampling_prior AS
SELECT CAST(plan_id AS VARCHAR) AS plan_id, CAST(uscc AS VARCHAR) AS uscc FROM sampling.plan;
