-- The frontier of the allocation (抽查资源-发现问题前沿): per tier month M, the most problems the plans of M+1 are
-- expected to find a year at each total budget of inspections a year, from what the floors alone need to the most
-- the inspectors can staff, under the same floors, caps, change bounds and capacities as the proposal
-- (sampling.allocation). What each further inspection buys. Internal: computed from tiers.
CREATE SCHEMA IF NOT EXISTS sampling;
CREATE TABLE IF NOT EXISTS sampling.allocation_frontier (
    month               DATE NOT NULL,      -- the tier month M (its first day); the plans run in M+1
    step                INTEGER NOT NULL,   -- 1 = the floors' budget, the last = the most the capacity allows
    budget              DOUBLE NOT NULL,    -- inspections a year, all plans of M+1 together
    expected_findings   DOUBLE NOT NULL,    -- the most problems expected a year at that budget
    marginal_findings   DOUBLE,             -- problems per further inspection since the step before
    policy_version      VARCHAR             -- version of the policy files the frontier was computed with
);
COMMENT ON TABLE sampling.allocation_frontier IS 'Frontier of the allocation per tier month: the most problems the plans of M+1 are expected to find a year at each budget of inspections, from the floors to the inspectors'' capacity; internal (抽查资源与预期发现问题前沿，内部)';

-- name: replace_month
-- Replace tier month $month (幂等重跑) with _allocation_frontier_rows, registered by the caller inside the
-- transaction that replaces the month of sampling.allocation.
DELETE FROM sampling.allocation_frontier WHERE month = $month;
INSERT INTO sampling.allocation_frontier BY NAME
SELECT * FROM _allocation_frontier_rows ORDER BY step;
