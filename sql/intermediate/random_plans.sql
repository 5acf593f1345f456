-- The random (双随机) plans whose inclusion probability can weight a result (可加权的双随机计划), as delivered by
-- month m: a plan or a stratum of a stratified draw, kind random, π in (0, 1]. A table macro, so the model's labels,
-- the label funnel, the model monitoring's latest results and the allocation's rates weight by one rule:
-- FROM zs_random_plans($month). Temporary: it lives on the connection that ran this file.
CREATE OR REPLACE TEMP MACRO zs_random_plans(m) AS TABLE
    SELECT plan_id, inclusion_probability AS pi
    FROM staging.plans
    WHERE kind = 'random' AND _delivery_month <= m
      AND inclusion_probability > 0 AND inclusion_probability <= 1;
