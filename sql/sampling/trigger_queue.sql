-- Trigger queue (触发式监管) of tier month $month: A- and B-tier enterprises, left alone by the random plans
-- as far as possible (无事不扰), are queued for a triggered inspection when something happened to them in the
-- month: a complaint or report (投诉举报) received in the month and delivered by it. Tier C and D firms are
-- already drawn at high rates and are not queued here. Early-warning triggers join once warnings exist.
CREATE SCHEMA IF NOT EXISTS sampling;
CREATE TABLE IF NOT EXISTS sampling.trigger_queue (
    month           DATE NOT NULL,      -- the tier month M; the triggered inspection follows in M+1
    uscc            VARCHAR NOT NULL,
    tier            VARCHAR NOT NULL,   -- A or B
    trigger_type    VARCHAR NOT NULL,   -- complaint
    triggers        INTEGER NOT NULL,   -- how many in the month
    substantiated   INTEGER NOT NULL,   -- of which found true (属实)
    first_on        DATE NOT NULL,
    last_on         DATE NOT NULL,
    channels        VARCHAR[] NOT NULL  -- 12315, 12345, 来信, 来访
);
COMMENT ON TABLE sampling.trigger_queue IS 'A/B-tier enterprises with a trigger in the month (complaint or report), queued for triggered inspection, separate from the random plans; internal (触发式监管队列)';
DELETE FROM sampling.trigger_queue WHERE month = $month;
INSERT INTO sampling.trigger_queue
SELECT $month, c.uscc, t.tier, 'complaint', count(*), count(*) FILTER (WHERE c.substantiated),
       min(c.received_on), max(c.received_on), list_sort(list_distinct(list(c.channel)))
FROM staging.complaints c
JOIN tiers.enterprise_monthly t ON t.uscc = c.uscc AND t.month = $month AND t.tier IN ('A', 'B')
WHERE c._delivery_month <= $month AND c.received_on BETWEEN $month AND $month_end
GROUP BY c.uscc, t.tier
ORDER BY c.uscc;
SELECT tier, count(*) FROM sampling.trigger_queue WHERE month = $month GROUP BY tier ORDER BY tier;
