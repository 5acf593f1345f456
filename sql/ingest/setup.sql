-- Schemas and bookkeeping tables of the ingest layer (接入层: 原始层、标准层、隔离区).
CREATE SCHEMA IF NOT EXISTS raw;
CREATE SCHEMA IF NOT EXISTS staging;
CREATE SCHEMA IF NOT EXISTS quarantine;

CREATE TABLE IF NOT EXISTS raw.landing_files (
    source          VARCHAR NOT NULL,
    delivery_month  DATE NOT NULL,
    file            VARCHAR NOT NULL,   -- path below landing/
    sha256          VARCHAR NOT NULL,   -- identity of the file: the same bytes are never ingested twice
    size_bytes      BIGINT NOT NULL,
    format          VARCHAR,
    encoding        VARCHAR,
    status          VARCHAR NOT NULL,   -- ingested | rejected | duplicate_file
    error_code      VARCHAR,
    error_message   VARCHAR,
    rows_read       BIGINT NOT NULL,
    ingested_at     TIMESTAMP NOT NULL
);
COMMENT ON TABLE raw.landing_files IS 'Every landing file seen, with its SHA-256 and fate (落地文件登记)';

CREATE TABLE IF NOT EXISTS quarantine.rows (
    source          VARCHAR NOT NULL,
    delivery_month  DATE NOT NULL,
    source_file     VARCHAR NOT NULL,
    file_sha256     VARCHAR NOT NULL,
    row_number      BIGINT NOT NULL,    -- 1-based data row, header excluded
    line_number     BIGINT,             -- 1-based line in the file, when known
    reason_code     VARCHAR NOT NULL,
    column_name     VARCHAR NOT NULL,
    message         VARCHAR NOT NULL,
    raw_row         JSON NOT NULL       -- the row exactly as landed in raw (personal IDs already hashed)
);
COMMENT ON TABLE quarantine.rows IS 'Rows rejected at ingest, with reason code and message (隔离区)';
