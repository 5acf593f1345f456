-- Every seed commitment on record, with its signed record (NULL for homes from before signed commitments).
SELECT plan_id, seed_commitment, record FROM sampling.commitments ORDER BY plan_id;
