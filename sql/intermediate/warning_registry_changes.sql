-- Rule registry_changes (频繁变更登记事项): at least $min_changes registry changes dated in the $window_months
-- months ending with M. A change is a registry version after the enterprise's first record in which some
-- registered item differs from the version before (a re-delivery of the same state is no change). Versions
-- as known at M: delivered by M, dated by its end, one per record date (the latest delivery wins).
INSERT INTO _ew_fired
WITH candidates AS (  -- enough records in the window to possibly reach $min_changes: the rest are skipped cheaply
    SELECT uscc
    FROM staging.registry
    WHERE _delivery_month <= $month AND record_date <= $month_end
        AND record_date >= CAST($month - to_months($window_months - 1) AS DATE)
    GROUP BY uscc
    HAVING count(DISTINCT record_date) >= $min_changes
),
versions AS (
    SELECT r.uscc, r.record_date, r.name, r.entity_type, r.industry_code, r.town_code, r.registered_capital,
        r.status, r.legal_rep_hash, r.address
    FROM staging.registry r
    SEMI JOIN candidates c ON c.uscc = r.uscc
    WHERE r._delivery_month <= $month AND r.record_date <= $month_end
    QUALIFY row_number() OVER (PARTITION BY r.uscc, r.record_date
        ORDER BY r._delivery_month DESC, r._source_file DESC, r._row_number DESC) = 1
),
diffs AS (
    SELECT
        uscc,
        record_date,
        row_number() OVER w AS version_no,
        list_filter([
            CASE WHEN name IS DISTINCT FROM lag(name) OVER w THEN 'name' END,
            CASE WHEN address IS DISTINCT FROM lag(address) OVER w THEN 'address' END,
            CASE WHEN legal_rep_hash IS DISTINCT FROM lag(legal_rep_hash) OVER w THEN 'legal_rep' END,
            CASE WHEN registered_capital IS DISTINCT FROM lag(registered_capital) OVER w THEN 'capital' END,
            CASE WHEN industry_code IS DISTINCT FROM lag(industry_code) OVER w THEN 'industry' END,
            CASE WHEN town_code IS DISTINCT FROM lag(town_code) OVER w THEN 'town' END,
            CASE WHEN entity_type IS DISTINCT FROM lag(entity_type) OVER w THEN 'entity_type' END,
            CASE WHEN status IS DISTINCT FROM lag(status) OVER w THEN 'status' END
        ], lambda f: f IS NOT NULL) AS fields
    FROM versions
    WINDOW w AS (PARTITION BY uscc ORDER BY record_date)
),
changes AS (
    SELECT uscc, record_date, fields
    FROM diffs
    WHERE version_no > 1 AND len(fields) > 0
        AND record_date >= CAST($month - to_months($window_months - 1) AS DATE)
),
fired AS (
    SELECT
        uscc,
        count(*) AS n,
        list(record_date ORDER BY record_date) AS dates,
        list_sort(list_distinct(flatten(list(fields)))) AS fields
    FROM changes
    GROUP BY uscc
    HAVING count(*) >= $min_changes
)
SELECT
    uscc,
    'registry_changes',
    $severity,
    to_json({'changes': n, 'window_months': $window_months::INTEGER, 'changed_on': dates, 'fields': fields})::VARCHAR,
    format('近{}个月变更登记事项{}次（{}）', $window_months::INTEGER, n, array_to_string(list_transform(fields,
        lambda f: CASE f WHEN 'name' THEN '名称' WHEN 'address' THEN '住所' WHEN 'legal_rep' THEN '法定代表人'
            WHEN 'capital' THEN '注册资本' WHEN 'industry' THEN '行业' WHEN 'town' THEN '所属镇街'
            WHEN 'entity_type' THEN '企业类型' ELSE '登记状态' END), '、')),
    $suggested_action
FROM fired;
