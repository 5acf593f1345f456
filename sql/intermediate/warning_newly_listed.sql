-- Rule newly_listed (新列入名录): put on the abnormal-operation list (经营异常名录) or the serious illegal and
-- dishonest list (严重违法失信名单) by a decision dated in M, while not on that list at the end of M-1.
-- Point in time: decisions delivered by M and dated by its end. A list's status at a date is the latest
-- decision per (enterprise, reason): 'in' = listed (列入), 'out' = removed (移出), as in the features.
INSERT INTO _ew_fired
WITH decisions AS (
    SELECT 'abnormal' AS list, uscc, action, reason_code, decided_on, _delivery_month, _source_file, _row_number
    FROM staging.abnormal_list
    WHERE _delivery_month <= $month AND decided_on <= $month_end AND list_contains($lists, 'abnormal')
    UNION ALL
    SELECT 'dishonest', uscc, action, reason_code, decided_on, _delivery_month, _source_file, _row_number
    FROM staging.dishonest_list
    WHERE _delivery_month <= $month AND decided_on <= $month_end AND list_contains($lists, 'dishonest')
),
listed_before AS (  -- on the list at the end of M-1
    SELECT DISTINCT list, uscc
    FROM (
        SELECT list, uscc FROM decisions
        WHERE decided_on < $month
        QUALIFY row_number() OVER (PARTITION BY list, uscc, reason_code
            ORDER BY decided_on DESC, _delivery_month DESC, _source_file DESC, _row_number DESC) = 1
            AND action = 'in'
    )
),
listings AS (  -- a re-delivered decision counts once
    SELECT DISTINCT d.list, d.uscc, d.reason_code, d.decided_on
    FROM decisions d
    ANTI JOIN listed_before b ON b.list = d.list AND b.uscc = d.uscc
    WHERE d.action = 'in' AND d.decided_on >= $month
),
worded AS (
    SELECT
        *,
        CASE list WHEN 'abnormal' THEN '经营异常名录' ELSE '严重违法失信名单' END AS list_zh,
        CASE reason_code
            WHEN 'late_annual_report' THEN '未按期公示年度报告'
            WHEN 'not_publicized' THEN '未按规定公示应当公示的信息'
            WHEN 'false_info' THEN '公示信息隐瞒真实情况、弄虚作假'
            WHEN 'unreachable' THEN '通过登记的住所无法联系'
            WHEN 'abnormal_3_years' THEN '列入经营异常名录满三年'
            WHEN 'fraudulent_registration' THEN '提交虚假材料或以欺诈手段取得登记'
            WHEN 'serious_food_safety' THEN '严重食品安全违法'
            WHEN 'serious_product_quality' THEN '严重产品质量违法'
            WHEN 'serious_special_equipment' THEN '严重特种设备安全违法'
            WHEN 'serious_market_order' THEN '严重破坏市场秩序'
            ELSE reason_code
        END AS reason_zh
    FROM listings
)
SELECT
    uscc,
    'newly_listed',
    $severity,
    to_json({'listings': list({'list': list, 'reason_code': reason_code, 'decided_on': decided_on}
        ORDER BY list, decided_on, reason_code)})::VARCHAR,
    string_agg(format('{}被列入{}（{}）', strftime(decided_on, '%Y-%m-%d'), list_zh, reason_zh), '；'
        ORDER BY list, decided_on, reason_code),
    $suggested_action
FROM worded
GROUP BY uscc;
