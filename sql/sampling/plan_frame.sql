-- One plan's frame and per-stratum rates for the draw (draw protocol v1 inputs), from sampling.frame.
SELECT uscc, stratum, rate
FROM sampling.frame
WHERE month = $month AND plan_id = $plan_id
ORDER BY stratum, uscc;
