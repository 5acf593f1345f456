-- Enterprises in scope alive at the end of $month, counted straight from staging.registry for the row-count
-- check of features.enterprise_monthly (月末存续企业数). Deliberately simple and independent of the feature
-- query: the current record of each enterprise is its latest record_date known by $month (later delivery,
-- file and row win a tie), and it is alive when its status is 存续 or 在业.
SELECT count(*)
FROM (
    SELECT DISTINCT ON (uscc) uscc, entity_type, status
    FROM staging.registry
    WHERE _delivery_month <= $month AND record_date <= $month_end
    ORDER BY uscc, record_date DESC, _delivery_month DESC, _source_file DESC, _row_number DESC
)
WHERE status IN ('存续', '在业') AND list_contains($entity_types, entity_type);
