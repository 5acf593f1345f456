-- Scratch table the rule files fill within the month's transaction; early_warnings_replace.sql moves it.
CREATE OR REPLACE TEMP TABLE _ew_fired (
    uscc             VARCHAR NOT NULL,
    rule             VARCHAR NOT NULL,
    severity         VARCHAR NOT NULL,
    evidence         VARCHAR NOT NULL,
    evidence_zh      VARCHAR NOT NULL,
    suggested_action VARCHAR NOT NULL
);
