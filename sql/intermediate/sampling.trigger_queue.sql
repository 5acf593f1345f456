-- Trigger queue (触发式监管) of tier month $month: A- and B-tier enterprises, left alone by the random plans
-- as far as possible (无事不扰), are queued for a triggered inspection when something happened to them in the
-- month. One row per enterprise and trigger type:
--   complaint      a complaint or report (投诉举报) received in the month and delivered by it;
--   early_warning  a warning of monitoring.early_warnings of the month marked to_trigger_queue (预警).
-- Tier C and D firms are already drawn at high rates and are not queued here.
CREATE SCHEMA IF NOT EXISTS sampling;
CREATE TABLE IF NOT EXISTS sampling.trigger_queue (
    month           DATE NOT NULL,      -- the tier month M; the triggered inspection follows in M+1
    uscc            VARCHAR NOT NULL,
    tier            VARCHAR NOT NULL,   -- A or B
    trigger_type    VARCHAR NOT NULL,   -- complaint | early_warning
    triggers        INTEGER NOT NULL,   -- complaints received in the month, or warning rules fired
    substantiated   INTEGER,            -- complaint: of which found true (属实); NULL for a warning
    first_on        DATE,               -- complaint: first and last received; NULL for a warning
    last_on         DATE,
    channels        VARCHAR[],          -- complaint: 12315, 12345, 来信, 来访; NULL for a warning
    rules           VARCHAR[],          -- early_warning: the rules that fired; NULL for a complaint
    severity        VARCHAR             -- early_warning: the highest severity among them; NULL for a complaint
);
-- A queue built before early warnings fed it has complaint columns NOT NULL and no rule columns.
ALTER TABLE sampling.trigger_queue ADD COLUMN IF NOT EXISTS rules VARCHAR[];
ALTER TABLE sampling.trigger_queue ADD COLUMN IF NOT EXISTS severity VARCHAR;
ALTER TABLE sampling.trigger_queue ALTER COLUMN substantiated DROP NOT NULL;
ALTER TABLE sampling.trigger_queue ALTER COLUMN first_on DROP NOT NULL;
ALTER TABLE sampling.trigger_queue ALTER COLUMN last_on DROP NOT NULL;
ALTER TABLE sampling.trigger_queue ALTER COLUMN channels DROP NOT NULL;
COMMENT ON TABLE sampling.trigger_queue IS 'A/B-tier enterprises with a trigger in the month (a complaint or report, or an early warning), one row per trigger type, queued for triggered inspection, separate from the random plans; internal (触发式监管队列)';

-- name: replace_month
-- Replace month $month; the enterprises queued per tier.
DELETE FROM sampling.trigger_queue WHERE month = $month;
INSERT INTO sampling.trigger_queue
SELECT * FROM (
    SELECT $month, c.uscc, t.tier, 'complaint', count(*), count(*) FILTER (WHERE c.substantiated),
           min(c.received_on), max(c.received_on), list_sort(list_distinct(list(c.channel))),
           NULL::VARCHAR[], NULL::VARCHAR
    FROM staging.complaints c
    JOIN tiers.enterprise_monthly t ON t.uscc = c.uscc AND t.month = $month AND t.tier IN ('A', 'B')
    WHERE c._delivery_month <= $month AND c.received_on BETWEEN $month AND $month_end
    GROUP BY c.uscc, t.tier
    UNION ALL
    SELECT $month, w.uscc, w.tier, 'early_warning', count(*), NULL, NULL, NULL, NULL,
           list(w.rule ORDER BY w.rule),
           ['high', 'medium', 'low'][min(list_position(['high', 'medium', 'low'], w.severity))]
    FROM monitoring.early_warnings w
    WHERE w.month = $month AND w.to_trigger_queue
    GROUP BY w.uscc, w.tier
)
ORDER BY ALL;
SELECT tier, count(DISTINCT uscc) FROM sampling.trigger_queue WHERE month = $month GROUP BY tier ORDER BY tier;
