-- Record a draw's seed commitment before the draw (a plan already committed keeps its first commitment).
INSERT INTO sampling.commitments VALUES ($plan_id, $seed_commitment, $algorithm, now()::TIMESTAMP)
ON CONFLICT (plan_id) DO NOTHING;
SELECT seed_commitment FROM sampling.commitments WHERE plan_id = $plan_id;
