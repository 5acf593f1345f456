-- The latest month tiered (最近分类月份).
SELECT max(month) FROM tiers.enterprise_monthly;
