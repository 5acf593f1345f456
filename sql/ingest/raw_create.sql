-- raw.{source}: every contract column as delivered (text), extras as JSON, and lineage (原始层).
CREATE TABLE IF NOT EXISTS raw.{source} AS
SELECT
    *,
    NULL::DATE AS _delivery_month,
    NULL::VARCHAR AS _source_file,
    NULL::VARCHAR AS _file_sha256,
    NULL::TIMESTAMP AS _ingested_at
FROM _landed
LIMIT 0;
