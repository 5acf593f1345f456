-- sampling.commitments (随机种子承诺值): one seed commitment per plan, recorded before its draw, with its signed
-- record; a plan already committed keeps its first commitment.
CREATE SCHEMA IF NOT EXISTS sampling;
CREATE TABLE IF NOT EXISTS sampling.commitments (
    plan_id             VARCHAR NOT NULL PRIMARY KEY,
    seed_commitment     VARCHAR NOT NULL,   -- sha256(seed), written before the draw is made
    algorithm           VARCHAR NOT NULL,
    committed_at        TIMESTAMP NOT NULL
);
-- The signed record (lib/evidence/signing.py): commitment, algorithm, frame SHA-256 and rows, time, key, signature.
ALTER TABLE sampling.commitments ADD COLUMN IF NOT EXISTS frame_sha256 VARCHAR;
ALTER TABLE sampling.commitments ADD COLUMN IF NOT EXISTS record VARCHAR;
COMMENT ON TABLE sampling.commitments IS 'Seed commitments of the draws, recorded before each draw (随机种子承诺值)';

-- name: commit
-- Record a draw's seed commitment before the draw (a plan already committed keeps its first commitment), with the
-- signed record of it (seed commitment, frame SHA-256, key, signature).
INSERT INTO sampling.commitments BY NAME
SELECT $plan_id AS plan_id, $seed_commitment AS seed_commitment, $algorithm AS algorithm,
    now()::TIMESTAMP AS committed_at, $frame_sha256 AS frame_sha256, $record AS record
ON CONFLICT (plan_id) DO NOTHING;
SELECT seed_commitment FROM sampling.commitments WHERE plan_id = $plan_id;

-- name: of_plan
-- A plan's seed commitment as recorded before its draw, and its signed record.
SELECT seed_commitment, record FROM sampling.commitments WHERE plan_id = $plan_id;

-- name: all
-- Every seed commitment on record, with its signed record (NULL for homes from before signed commitments).
SELECT plan_id, seed_commitment, record FROM sampling.commitments ORDER BY plan_id;
