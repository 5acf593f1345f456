-- One check of a month's expected deliveries, released by an operator or not (audit.deliveries).
INSERT INTO audit.deliveries (month, checked_at, missing, released, release_reason, run_id)
VALUES ($month, $checked_at::TIMESTAMP, $missing, $released, $release_reason, $run_id);
