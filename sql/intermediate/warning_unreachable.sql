-- Rule unreachable (通过登记的住所无法联系): an inspection dated in M with one of $inspection_codes among its
-- results, or an abnormal-list listing decided in M for one of $abnormal_reasons. Point in time: delivered by M.
INSERT INTO _ew_fired
WITH found AS (
    SELECT uscc, 'inspection' AS source, task_id AS ref, inspected_on AS on_date
    FROM staging.inspections
    WHERE _delivery_month <= $month AND inspected_on BETWEEN $month AND $month_end
        AND list_has_any(result_codes, $inspection_codes)
    UNION  -- a re-delivered listing counts once
    SELECT uscc, 'abnormal_list', reason_code, decided_on
    FROM staging.abnormal_list
    WHERE _delivery_month <= $month AND decided_on BETWEEN $month AND $month_end AND action = 'in'
        AND list_contains($abnormal_reasons, reason_code)
)
SELECT
    uscc,
    'unreachable',
    $severity,
    to_json({
        'inspections': coalesce(list({'task_id': ref, 'inspected_on': on_date} ORDER BY on_date, ref)
            FILTER (WHERE source = 'inspection'), []),
        'abnormal_listings': coalesce(list({'reason_code': ref, 'decided_on': on_date} ORDER BY on_date, ref)
            FILTER (WHERE source = 'abnormal_list'), [])
    })::VARCHAR,
    string_agg(
        CASE source WHEN 'inspection' THEN format('{}检查发现通过登记的住所无法联系', strftime(on_date, '%Y-%m-%d'))
            WHEN 'abnormal_list' THEN format('{}因{}被列入经营异常名录', strftime(on_date, '%Y-%m-%d'),
                CASE ref WHEN 'unreachable' THEN '通过登记的住所无法联系' ELSE ref END) END,
        '；' ORDER BY on_date, source, ref),
    $suggested_action
FROM found
GROUP BY uscc;
