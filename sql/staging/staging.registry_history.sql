-- Registry as history (登记信息历史): one row per version of an enterprise, valid_from inclusive,
-- valid_to exclusive (NULL = current). Of two versions with the same record_date the later delivery wins.
-- Point-in-time readers filter on _delivery_month <= their month before taking versions.
CREATE OR REPLACE VIEW staging.registry_history AS
WITH versions AS (
    SELECT * FROM staging.registry
    QUALIFY row_number() OVER (
        PARTITION BY uscc, record_date ORDER BY _delivery_month DESC, _source_file DESC, _row_number DESC) = 1
)
SELECT
    * EXCLUDE (record_date),
    record_date AS valid_from,
    lead(record_date) OVER (PARTITION BY uscc ORDER BY record_date) AS valid_to
FROM versions;
COMMENT ON VIEW staging.registry_history IS 'Enterprise registry as history with valid_from/valid_to (登记信息历史)';
