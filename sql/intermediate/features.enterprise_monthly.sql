-- features.enterprise_monthly (企业月度特征): one row per enterprise in scope alive at the end of each month, with
-- the indicators of reference/indicators.csv in catalogue order (their column comments come from the catalogue,
-- set by lib/features/enterprise_monthly.py). Created shaped like the month's computed rows (#compute); each month
-- is computed from #query and replaced in one transaction.
CREATE SCHEMA IF NOT EXISTS features;
CREATE TABLE IF NOT EXISTS features.enterprise_monthly AS SELECT * FROM _features_month WITH NO DATA;

-- name: query
-- Monthly point-in-time indicators of every enterprise in scope alive at the end of the month (企业月度特征).
-- Parameters: $month (DATE, first day), $month_end (DATE, last day), $entity_types (VARCHAR[], in scope).
-- Columns: uscc, month, then the indicators of zs_risk_pipeline/reference/indicators.csv in catalogue order.
--
-- Point in time: only staging rows delivered by $month (_delivery_month <= $month) whose event date is on or
-- before $month_end are read, so a later delivery (a late penalty, a corrected registry row) never changes
-- the features of a month already computed. Windows are whole calendar months ending with $month:
-- 3m = M-2..M, 6m = M-5..M, 12m = M-11..M, 36m = M-35..M. Counts are 0 without events; NULL only where a
-- value is genuinely unknown (no annual report, no registered capital). No random(), now() or hash():
-- the same staging gives the same bytes.
WITH
-- Registry versions known at M: every record delivered by M and dated by its end, ordered per enterprise by
-- (record_date, _delivery_month, _source_file, _row_number); the last one is the state at month end. A
-- record re-delivered for the same date is a later version (counted as a change only where a field differs).
-- The view staging.registry_history is not used: its valid_to can see deliveries after M.
versions AS (
    SELECT
        uscc, name, entity_type, industry_code, town_code, registered_capital, established_on, status,
        legal_rep_hash, address, record_date,
        row_number() OVER w AS version_no,
        lead(record_date) OVER w IS NULL AS is_latest,
        lag(legal_rep_hash) OVER w AS prev_rep,
        lag(address) OVER w AS prev_address,
        lag(name) OVER w AS prev_name,
        lag(registered_capital) OVER w AS prev_capital
    FROM staging.registry
    WHERE _delivery_month <= $month AND record_date <= $month_end
    WINDOW w AS (PARTITION BY uscc ORDER BY record_date, _delivery_month, _source_file, _row_number)
),
-- A change is a version whose field differs from the version before it (the first version is no change).
changes AS (
    SELECT
        uscc,
        count(*) FILTER (WHERE legal_rep_hash IS DISTINCT FROM prev_rep
            AND record_date >= CAST($month - INTERVAL 5 MONTH AS DATE)) AS rep_6m,
        count(*) FILTER (WHERE legal_rep_hash IS DISTINCT FROM prev_rep) AS rep_12m,
        count(*) FILTER (WHERE address IS DISTINCT FROM prev_address
            AND record_date >= CAST($month - INTERVAL 5 MONTH AS DATE)) AS address_6m,
        count(*) FILTER (WHERE address IS DISTINCT FROM prev_address) AS address_12m,
        count(*) FILTER (WHERE name IS DISTINCT FROM prev_name
            AND record_date >= CAST($month - INTERVAL 5 MONTH AS DATE)) AS name_6m,
        count(*) FILTER (WHERE name IS DISTINCT FROM prev_name) AS name_12m,
        count(*) FILTER (WHERE registered_capital IS DISTINCT FROM prev_capital
            AND record_date >= CAST($month - INTERVAL 5 MONTH AS DATE)) AS capital_6m,
        count(*) FILTER (WHERE registered_capital IS DISTINCT FROM prev_capital) AS capital_12m,
        count(*) FILTER (WHERE registered_capital < prev_capital) AS capital_down_12m
    FROM versions
    WHERE version_no > 1 AND record_date >= CAST($month - INTERVAL 11 MONTH AS DATE)
    GROUP BY uscc
),
latest AS (
    SELECT * EXCLUDE (version_no, is_latest, prev_rep, prev_address, prev_name, prev_capital)
    FROM versions
    WHERE is_latest
),
population AS (
    SELECT * FROM latest
    WHERE status IN ('存续', '在业') AND list_contains($entity_types, entity_type)
),
-- Abnormal-operation list (经营异常名录): per (enterprise, reason) the latest decision as of M decides the
-- status; listed now = some reason's latest decision is 'in'.
abnormal AS (
    SELECT uscc, action, reason_code, decided_on, _delivery_month, _source_file, _row_number
    FROM staging.abnormal_list
    WHERE _delivery_month <= $month AND decided_on <= $month_end
),
abnormal_open AS (
    SELECT uscc, reason_code, decided_on
    FROM abnormal
    QUALIFY row_number() OVER (PARTITION BY uscc, reason_code
        ORDER BY decided_on DESC, _delivery_month DESC, _source_file DESC, _row_number DESC) = 1
        AND action = 'in'
),
abnormal_now AS (
    SELECT
        uscc,
        bool_or(reason_code = 'unreachable') AS unreachable,
        bool_or(reason_code = 'false_info') AS false_info,
        max(date_diff('day', decided_on, $month_end)) AS days_listed
    FROM abnormal_open
    GROUP BY uscc
),
abnormal_36m AS (  -- listings, a re-delivered decision counted once
    SELECT uscc, count(*) AS listings
    FROM (
        SELECT DISTINCT uscc, reason_code, decided_on
        FROM abnormal
        WHERE action = 'in' AND decided_on >= CAST($month - INTERVAL 35 MONTH AS DATE)
    )
    GROUP BY uscc
),
-- Serious illegal and dishonest list (严重违法失信名单), the same logic.
dishonest AS (
    SELECT uscc, action, reason_code, decided_on, _delivery_month, _source_file, _row_number
    FROM staging.dishonest_list
    WHERE _delivery_month <= $month AND decided_on <= $month_end
),
dishonest_now AS (
    SELECT DISTINCT uscc
    FROM (
        SELECT uscc FROM dishonest
        QUALIFY row_number() OVER (PARTITION BY uscc, reason_code
            ORDER BY decided_on DESC, _delivery_month DESC, _source_file DESC, _row_number DESC) = 1
            AND action = 'in'
    )
),
dishonest_ever AS (
    SELECT DISTINCT uscc FROM dishonest WHERE action = 'in'
),
-- Administrative penalties (行政处罚) of the last 36 months; case numbers are unique across deliveries.
penalties AS (
    SELECT
        uscc,
        count(*) FILTER (WHERE decided_on >= CAST($month - INTERVAL 11 MONTH AS DATE)) AS n_12m,
        count(*) AS n_36m,
        ln(1 + coalesce(sum(greatest(amount, 0)), 0)::DOUBLE) AS amount_log_36m,
        count(*) FILTER (WHERE severity IN ('较重', '严重')) AS serious_36m
    FROM staging.penalties
    WHERE _delivery_month <= $month AND decided_on <= $month_end
        AND decided_on >= CAST($month - INTERVAL 35 MONTH AS DATE)
    GROUP BY uscc
),
-- Inspection results (抽查检查结果) of the last 36 months.
inspections AS (
    SELECT
        uscc,
        count(*) AS n_36m,
        count(*) FILTER (WHERE problem_found) AS problem_36m,
        arg_max(problem_found, (inspected_on, task_id)) AS last_problem,
        date_diff('month', max(inspected_on), $month_end) AS months_since_last,
        count(*) FILTER (WHERE list_has_any(result_codes, ['REFUSED_SERIOUS', 'UNREACHABLE'])) AS refused_36m
    FROM staging.inspections
    WHERE _delivery_month <= $month AND inspected_on <= $month_end
        AND inspected_on >= CAST($month - INTERVAL 35 MONTH AS DATE)
    GROUP BY uscc
),
-- Complaints and reports (投诉举报) of the last 12 months.
complaints AS (
    SELECT
        uscc,
        count(*) FILTER (WHERE received_on >= CAST($month - INTERVAL 2 MONTH AS DATE)) AS n_3m,
        count(*) FILTER (WHERE received_on >= CAST($month - INTERVAL 5 MONTH AS DATE)
            AND received_on < CAST($month - INTERVAL 2 MONTH AS DATE)) AS n_prev_3m,
        count(*) AS n_12m,
        count(*) FILTER (WHERE substantiated) AS substantiated_12m
    FROM staging.complaints
    WHERE _delivery_month <= $month AND received_on <= $month_end
        AND received_on >= CAST($month - INTERVAL 11 MONTH AS DATE)
    GROUP BY uscc
),
-- Annual reports (年度报告): per (uscc, report year) the latest delivered version gives the figures (the key
-- is unique within a delivery), the first submission the filing date (a correction does not make an on-time
-- report late).
reports AS (
    SELECT
        uscc,
        report_year,
        min(submitted_on) AS first_submitted,
        arg_max({'employees': employees, 'insured': social_insurance_count, 'revenue': revenue,
            'total_assets': total_assets}, _delivery_month) AS v
    FROM staging.annual_reports
    WHERE _delivery_month <= $month AND submitted_on <= $month_end
    GROUP BY uscc, report_year
),
-- The report for year Y is due by 30 June of Y+1: the last due year is the latest Y with that deadline on or
-- before the month end. Years before the earliest report year delivered so far are not judged: the source
-- does not cover them (a first delivery without history must not make every firm a non-filer).
due AS (
    SELECT
        due_year,
        coalesce(due_year >= first_covered_year, false) AS judge_y0,
        coalesce(due_year - 1 >= first_covered_year, false) AS judge_y1,
        coalesce(due_year - 2 >= first_covered_year, false) AS judge_y2
    FROM (
        SELECT
            CASE WHEN month($month_end) >= 6 THEN year($month_end) - 1 ELSE year($month_end) - 2 END AS due_year,
            (SELECT min(report_year) FROM reports) AS first_covered_year
    )
),
report_firm AS (  -- the last two reports (by report year) give levels and trends
    SELECT
        uscc,
        bool_or(report_year = d.due_year) AS has_y0,
        bool_or(report_year = d.due_year - 1) AS has_y1,
        bool_or(report_year = d.due_year - 2) AS has_y2,
        max(first_submitted) FILTER (WHERE report_year = d.due_year) AS y0_submitted,
        arg_max(v, report_year, 2) AS last_two
    FROM reports
    CROSS JOIN due d
    GROUP BY uscc
),
report_values AS (
    SELECT
        uscc, has_y0, has_y1, has_y2, y0_submitted,
        last_two[1].employees AS employees,
        last_two[2].employees AS employees_prev,
        last_two[1].insured AS insured,
        last_two[2].insured AS insured_prev,
        last_two[1].revenue AS revenue,
        last_two[1].total_assets AS total_assets
    FROM report_firm
),
-- Administrative licences (行政许可): the latest delivered version of each licence number.
licences AS (
    SELECT uscc, domain, expires_on, coalesce(status, '有效') AS status
    FROM staging.licenses
    WHERE _delivery_month <= $month AND issued_on <= $month_end
    QUALIFY row_number() OVER (
        PARTITION BY license_no ORDER BY _delivery_month DESC, _source_file DESC, _row_number DESC) = 1
),
licence_domains AS (
    SELECT
        uscc,
        domain,
        count(*) FILTER (WHERE status = '有效' AND coalesce(expires_on >= $month_end, true)) AS valid,
        count(*) FILTER (WHERE status = '有效' AND expires_on >= $month_end
            AND expires_on <= $month_end + 90) AS expiring_90d,
        count(*) FILTER (WHERE status = '有效' AND expires_on < $month_end) AS expired,
        count(*) FILTER (WHERE status = '吊销') AS revoked
    FROM licences
    GROUP BY uscc, domain
),
licence_firm AS (
    SELECT
        uscc,
        sum(valid) AS valid,
        sum(expiring_90d) AS expiring_90d,
        count(*) FILTER (WHERE expired > 0 AND valid = 0) AS expired_not_renewed,  -- expired, none valid
        sum(revoked) AS revoked
    FROM licence_domains
    GROUP BY uscc
),
-- Related parties: every market entity still on the register (any type, not deregistered or moved out) with
-- its legal representative (keyed hash), normalised address and risk flags as of M.
register AS (
    SELECT
        l.uscc,
        l.legal_rep_hash,
        -- Normalised address of entities in business: no province/city name, no spaces or punctuation.
        CASE WHEN l.status IN ('存续', '在业') THEN regexp_replace(
            replace(replace(upper(coalesce(l.address, '')), '广东省', ''), '中山市', ''),
            '[[:space:][:punct:]（）【】，。、；：·－—]+', '', 'g') END AS address_key,
        l.status IN ('存续', '在业') AS alive,
        l.status IN ('吊销', '撤销') AS revoked,
        a.uscc IS NOT NULL AS abnormal,
        p.uscc IS NOT NULL AS penalised,
        d.uscc IS NOT NULL AS dishonest
    FROM latest l
    LEFT JOIN abnormal_now a ON a.uscc = l.uscc
    LEFT JOIN penalties p ON p.uscc = l.uscc
    LEFT JOIN dishonest_now d ON d.uscc = l.uscc
    WHERE l.status NOT IN ('注销', '迁出')
),
by_rep AS (
    SELECT
        legal_rep_hash,
        count(*) AS n,
        count(*) FILTER (WHERE abnormal) AS n_abnormal,
        count(*) FILTER (WHERE penalised) AS n_penalised,
        count(*) FILTER (WHERE revoked) AS n_revoked,
        count(*) FILTER (WHERE dishonest) AS n_dishonest
    FROM register
    GROUP BY legal_rep_hash
),
by_address AS (  -- one address, many licences (一址多照): entities in business at the same address
    SELECT address_key, count(*) AS n, count(*) FILTER (WHERE abnormal) AS n_abnormal
    FROM register
    WHERE address_key <> ''
    GROUP BY address_key
)
SELECT
    p.uscc,
    $month::DATE AS month,
    -- basic attributes (企业基础属性信息)
    greatest(date_diff('day', p.established_on, $month_end), 0) / 365.25 AS age_years,
    (p.established_on > CAST($month_end - INTERVAL 1 YEAR AS DATE))::INTEGER AS new_firm,
    CASE WHEN p.registered_capital >= 0 THEN ln(1 + p.registered_capital::DOUBLE) END AS registered_capital_log,
    (p.registered_capital IS NULL OR p.registered_capital < 0)::INTEGER AS registered_capital_missing,
    CASE p.entity_type
        WHEN '有限责任公司' THEN 1 WHEN '股份有限公司' THEN 2 WHEN '个人独资企业' THEN 3 WHEN '合伙企业' THEN 4
        WHEN '外商投资企业' THEN 5 WHEN '分支机构' THEN 6 WHEN '农民专业合作社' THEN 7 WHEN '个体工商户' THEN 8
    END AS entity_type_code,
    ascii(left(p.industry_code, 1)) - 64 AS industry_section_code,
    TRY_CAST(substr(p.industry_code, 2, 2) AS INTEGER) AS industry_division_code,
    TRY_CAST(right(p.town_code, 3) AS INTEGER) AS town_no,
    (p.entity_type = '分支机构')::INTEGER AS is_branch,
    (p.entity_type = '外商投资企业')::INTEGER AS is_foreign_invested,
    -- dynamic information (企业动态信息)
    coalesce(c.rep_6m, 0)::INTEGER AS legal_rep_changes_6m,
    coalesce(c.rep_12m, 0)::INTEGER AS legal_rep_changes_12m,
    coalesce(c.address_6m, 0)::INTEGER AS address_changes_6m,
    coalesce(c.address_12m, 0)::INTEGER AS address_changes_12m,
    coalesce(c.name_6m, 0)::INTEGER AS name_changes_6m,
    coalesce(c.name_12m, 0)::INTEGER AS name_changes_12m,
    coalesce(c.capital_6m, 0)::INTEGER AS capital_changes_6m,
    coalesce(c.capital_12m, 0)::INTEGER AS capital_changes_12m,
    coalesce(c.capital_down_12m, 0)::INTEGER AS capital_decreases_12m,
    (d.judge_y0 AND p.established_on <= make_date(d.due_year, 12, 31)
        AND NOT coalesce(rf.has_y0, false))::INTEGER AS annual_report_missing,
    coalesce(rf.y0_submitted > make_date(d.due_year + 1, 6, 30), false)::INTEGER AS annual_report_late,
    ((d.judge_y0 AND p.established_on <= make_date(d.due_year, 12, 31) AND NOT coalesce(rf.has_y0, false))::INTEGER
        + (d.judge_y1 AND p.established_on <= make_date(d.due_year - 1, 12, 31)
            AND NOT coalesce(rf.has_y1, false))::INTEGER
        + (d.judge_y2 AND p.established_on <= make_date(d.due_year - 2, 12, 31)
            AND NOT coalesce(rf.has_y2, false))::INTEGER) AS annual_reports_missing_3y,
    rf.employees::DOUBLE AS employees,
    rf.insured::DOUBLE AS insured_staff,
    CASE WHEN rf.employees > 0 AND rf.insured >= 0 THEN least(rf.insured / rf.employees, 1.0) END AS insured_ratio,
    CASE WHEN rf.employees >= 0 AND rf.employees_prev >= 0
        THEN ln((rf.employees + 1) / (rf.employees_prev + 1)) END AS employees_trend,
    CASE WHEN rf.insured >= 0 AND rf.insured_prev >= 0
        THEN ln((rf.insured + 1) / (rf.insured_prev + 1)) END AS insured_staff_trend,
    CASE WHEN rf.revenue >= 0 THEN ln(1 + rf.revenue::DOUBLE) END AS revenue_log,
    coalesce(rf.revenue = 0, false)::INTEGER AS zero_revenue,
    CASE WHEN rf.total_assets >= 0 THEN ln(1 + rf.total_assets::DOUBLE) END AS total_assets_log,
    coalesce(lf.valid, 0)::INTEGER AS licences_valid,
    coalesce(lf.expired_not_renewed, 0)::INTEGER AS licences_expired_not_renewed,
    coalesce(lf.expiring_90d, 0)::INTEGER AS licences_expiring_90d,
    coalesce(lf.revoked, 0)::INTEGER AS licences_revoked,
    -- supervision information (监管信息)
    (an.uscc IS NOT NULL)::INTEGER AS abnormal_listed_now,
    coalesce(a36.listings, 0)::INTEGER AS abnormal_listings_36m,
    coalesce(an.unreachable, false)::INTEGER AS abnormal_unreachable_now,
    coalesce(an.false_info, false)::INTEGER AS abnormal_false_info_now,
    coalesce(an.days_listed, 0)::INTEGER AS abnormal_days_listed_now,
    (dn.uscc IS NOT NULL)::INTEGER AS dishonest_listed_now,
    (de.uscc IS NOT NULL)::INTEGER AS dishonest_ever,
    coalesce(pe.n_12m, 0)::INTEGER AS penalties_12m,
    coalesce(pe.n_36m, 0)::INTEGER AS penalties_36m,
    coalesce(pe.amount_log_36m, 0.0) AS penalty_amount_log_36m,
    coalesce(pe.serious_36m, 0)::INTEGER AS penalties_serious_36m,
    coalesce(i.n_36m, 0)::INTEGER AS inspections_36m,
    coalesce(i.problem_36m, 0)::INTEGER AS inspections_problem_36m,
    coalesce(i.last_problem, false)::INTEGER AS last_inspection_problem,
    coalesce(i.months_since_last, 36)::INTEGER AS months_since_last_inspection,
    coalesce(i.refused_36m, 0)::INTEGER AS inspections_refused_unreachable_36m,
    -- related parties (关联关系信息): the other entities, the enterprise itself excluded
    (br.n - 1)::INTEGER AS legal_rep_other_firms,
    CASE WHEN br.n > 1 THEN (br.n_abnormal - (an.uscc IS NOT NULL)::INTEGER) / (br.n - 1) ELSE 0.0 END
        AS legal_rep_others_abnormal_share,
    CASE WHEN br.n > 1 THEN (br.n_penalised - (pe.uscc IS NOT NULL)::INTEGER) / (br.n - 1) ELSE 0.0 END
        AS legal_rep_others_penalised_share,
    CASE WHEN br.n > 1 THEN br.n_revoked / (br.n - 1) ELSE 0.0 END AS legal_rep_others_revoked_share,
    CASE WHEN br.n > 1 THEN (br.n_dishonest - (dn.uscc IS NOT NULL)::INTEGER) / (br.n - 1) ELSE 0.0 END
        AS legal_rep_others_dishonest_share,
    coalesce(ba.n - 1, 0)::INTEGER AS address_other_firms,
    CASE WHEN ba.n > 1 THEN (ba.n_abnormal - (an.uscc IS NOT NULL)::INTEGER) / (ba.n - 1) ELSE 0.0 END
        AS address_others_abnormal_share,
    -- social evaluation (社会评价信息)
    coalesce(co.n_3m, 0)::INTEGER AS complaints_3m,
    coalesce(co.n_12m, 0)::INTEGER AS complaints_12m,
    coalesce(co.substantiated_12m, 0)::INTEGER AS complaints_substantiated_12m,
    coalesce((co.n_3m - co.n_prev_3m) / (co.n_3m + co.n_prev_3m + 1), 0.0) AS complaint_growth_3m
FROM population p
CROSS JOIN due d
LEFT JOIN changes c ON c.uscc = p.uscc
LEFT JOIN report_values rf ON rf.uscc = p.uscc
LEFT JOIN licence_firm lf ON lf.uscc = p.uscc
LEFT JOIN abnormal_now an ON an.uscc = p.uscc
LEFT JOIN abnormal_36m a36 ON a36.uscc = p.uscc
LEFT JOIN dishonest_now dn ON dn.uscc = p.uscc
LEFT JOIN dishonest_ever de ON de.uscc = p.uscc
LEFT JOIN penalties pe ON pe.uscc = p.uscc
LEFT JOIN inspections i ON i.uscc = p.uscc
LEFT JOIN complaints co ON co.uscc = p.uscc
LEFT JOIN by_rep br ON br.legal_rep_hash = p.legal_rep_hash
LEFT JOIN register rg ON rg.uscc = p.uscc
LEFT JOIN by_address ba ON ba.address_key = rg.address_key
ORDER BY p.uscc;

-- name: compute
-- The month's features, computed once into a temporary table from the bound feature query (#query with $month,
-- $month_end, $entity_types; lib/features/enterprise_monthly.py registers it as _features_query).
CREATE OR REPLACE TEMP TABLE _features_month AS SELECT * FROM _features_query;

-- name: replace_month
-- Replace one month of features.enterprise_monthly with the freshly computed rows. The caller runs this in
-- the transaction that computed them, so readers see the old month or the new one, never a mix.
DELETE FROM features.enterprise_monthly WHERE month = $month;
INSERT INTO features.enterprise_monthly BY NAME SELECT * FROM _features_month ORDER BY uscc;
SELECT count(*) FROM features.enterprise_monthly WHERE month = $month;
