-- Rows of tier month $month of sampling.allocation that break what a proposal must keep, as (plan_id, tier,
-- problem): a proposed ratio below its floor (the legal floor of the publicity plan, the minimum chance of every
-- firm) or above its cap (无事不扰) or outside [0, 1], one (plan, tier) twice, and a plan whose proposed inspections
-- exceed what its inspectors can staff or its budget (tier '*'). $tolerance absorbs the solver's rounding, in
-- inspections a year (ratios compare exactly: they are written from exact decimals).
WITH m AS (
    SELECT * FROM sampling.allocation WHERE month = $month
), plans AS (
    SELECT plan_id, any_value(department) AS department, sum(inspections_proposed) AS proposed,
        min(capacity) AS capacity, min(budget) AS budget
    FROM m
    GROUP BY plan_id
)
SELECT plan_id, tier, problem FROM (
    SELECT plan_id, tier, 'proposed ratio ' || proposed_ratio || ' below its floor ' || floor || ' (' || floor_basis || ')'
        AS problem
    FROM m WHERE proposed_ratio < floor
    UNION ALL
    SELECT plan_id, tier, 'proposed ratio ' || proposed_ratio || ' above its cap ' || cap FROM m WHERE proposed_ratio > cap
    UNION ALL
    SELECT plan_id, tier, 'proposed ratio ' || proposed_ratio || ' outside [0, 1]' FROM m
    WHERE NOT proposed_ratio BETWEEN 0 AND 1
    UNION ALL
    SELECT plan_id, tier, 'duplicate: ' || count(*) || ' rows' FROM m GROUP BY plan_id, tier HAVING count(*) > 1
    UNION ALL
    SELECT plan_id, '*', department || ': ' || round(proposed, 1) || ' inspections a year proposed, its inspectors can '
        || 'staff ' || round(capacity, 1)
    FROM plans WHERE proposed > capacity + $tolerance
    UNION ALL
    SELECT plan_id, '*', department || ': ' || round(proposed, 1) || ' inspections a year proposed, its budget is '
        || round(budget, 1)
    FROM plans WHERE proposed > budget + $tolerance
)
ORDER BY plan_id, tier, problem;
