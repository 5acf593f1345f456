-- audit.deliveries (月度数据交付核查与放行记录): every check of a month's expected deliveries
-- (lib/ingest/deliveries.py), and every release of a month with missing sources by an operator.
CREATE SCHEMA IF NOT EXISTS audit;
CREATE SEQUENCE IF NOT EXISTS audit.deliveries_seq;
CREATE TABLE IF NOT EXISTS audit.deliveries (
    seq             BIGINT NOT NULL DEFAULT nextval('audit.deliveries_seq'),
    month           DATE NOT NULL,      -- the delivery month checked
    checked_at      TIMESTAMP NOT NULL,
    missing         VARCHAR NOT NULL,   -- JSON list of {source, folder, problem}: what config/deliveries.yaml expected
    released        BOOLEAN NOT NULL,   -- an operator released the month despite the missing sources
    release_reason  VARCHAR,            -- the operator's reason, required for a release
    run_id          VARCHAR
);
COMMENT ON TABLE audit.deliveries IS 'Every check of a month''s expected deliveries, and every release of a month with missing sources (月度数据交付核查与放行记录)';

-- name: record
-- One check of a month's expected deliveries, released by an operator or not (audit.deliveries).
INSERT INTO audit.deliveries (month, checked_at, missing, released, release_reason, run_id)
VALUES ($month, $checked_at::TIMESTAMP, $missing, $released, $release_reason, $run_id);

-- name: latest
-- The latest check of a month's expected deliveries.
SELECT missing, released, release_reason
FROM audit.deliveries
WHERE month = $month
ORDER BY checked_at DESC, seq DESC
LIMIT 1;

-- name: released
-- The month's latest release by an operator (the missing sources it released, the reason, when).
SELECT missing, release_reason, checked_at
FROM audit.deliveries
WHERE month = $month AND released
ORDER BY checked_at DESC, seq DESC
LIMIT 1;

-- name: month_release
-- The operator's release of a month whose expected sources had not delivered (audit.deliveries), when the
-- month's latest delivery check was released rather than complete.
SELECT missing, release_reason, checked_at
FROM audit.deliveries
WHERE month = $month
QUALIFY row_number() OVER (ORDER BY checked_at DESC, seq DESC) = 1 AND released;
