-- The latest month the monthly chain has tiered: plans drawn from an earlier month have been carried out.
SELECT max(month) FROM tiers.enterprise_monthly;
