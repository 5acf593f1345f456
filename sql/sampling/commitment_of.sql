-- A plan's seed commitment as recorded before its draw, and its signed record.
SELECT seed_commitment, record FROM sampling.commitments WHERE plan_id = $plan_id;
