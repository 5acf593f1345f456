-- Rule licence_expiring (许可证即将到期): a licence valid at the end of M (status 有效) expires on or after the
-- month end and at most $days days later, and the enterprise holds no other valid licence of the same domain
-- that expires later (or never): not renewed. Each licence number is read in its latest version delivered
-- by M (a renewal arrives as a new version with a later expiry), as in the features.
INSERT INTO _ew_fired
WITH licences AS (
    SELECT license_no, uscc, domain, expires_on, coalesce(status, '有效') AS status
    FROM staging.licenses
    WHERE _delivery_month <= $month AND issued_on <= $month_end
    QUALIFY row_number() OVER (
        PARTITION BY license_no ORDER BY _delivery_month DESC, _source_file DESC, _row_number DESC) = 1
),
valid AS (
    SELECT * FROM licences WHERE status = '有效' AND coalesce(expires_on >= $month_end, true)
),
expiring AS (
    SELECT e.*, date_diff('day', $month_end, e.expires_on) AS days_left
    FROM valid e
    WHERE e.expires_on BETWEEN $month_end AND $month_end + $days
        AND NOT EXISTS (
            SELECT 1 FROM valid v
            WHERE v.uscc = e.uscc AND v.domain = e.domain AND v.license_no <> e.license_no
                AND coalesce(v.expires_on > e.expires_on, true)
        )
)
SELECT
    uscc,
    'licence_expiring',
    $severity,
    to_json({'licences': list({'license_no': license_no, 'domain': domain, 'expires_on': expires_on,
        'days_left': days_left} ORDER BY expires_on, license_no)})::VARCHAR,
    string_agg(format('{}许可证{}将于{}到期（剩余{}天），尚未延续',
        CASE domain WHEN 'food' THEN '食品' WHEN 'special_equipment' THEN '特种设备' WHEN 'industrial_product'
            THEN '工业产品' WHEN 'drug' THEN '药品' WHEN 'medical_device' THEN '医疗器械' WHEN 'cosmetics'
            THEN '化妆品' ELSE '其他' END,
        license_no, strftime(expires_on, '%Y-%m-%d'), days_left), '；' ORDER BY expires_on, license_no),
    $suggested_action
FROM expiring
GROUP BY uscc;
