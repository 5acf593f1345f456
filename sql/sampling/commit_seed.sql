-- Record a draw's seed commitment before the draw (a plan already committed keeps its first commitment), with the
-- signed record of it (seed commitment, frame SHA-256, key, signature).
INSERT INTO sampling.commitments BY NAME
SELECT $plan_id AS plan_id, $seed_commitment AS seed_commitment, $algorithm AS algorithm,
    now()::TIMESTAMP AS committed_at, $frame_sha256 AS frame_sha256, $record AS record
ON CONFLICT (plan_id) DO NOTHING;
SELECT seed_commitment FROM sampling.commitments WHERE plan_id = $plan_id;
