-- Rule complaint_spike (投诉举报骤增): complaints received in M >= max($min_count, $factor × monthly mean of
-- the $trailing_months months before M). Point in time: received by the end of M and delivered by M (a late
-- delivery of an earlier month's complaint counts in that month's baseline once known). Compared as
-- n × k >= factor × trailing total, so no rounding decides a borderline case.
INSERT INTO _ew_fired
WITH counts AS (
    SELECT
        uscc,
        count(*) FILTER (WHERE received_on >= $month) AS n_month,
        count(*) FILTER (WHERE received_on < $month) AS n_trailing
    FROM staging.complaints
    WHERE _delivery_month <= $month AND received_on <= $month_end
        AND received_on >= CAST($month - to_months($trailing_months) AS DATE)
    GROUP BY uscc
)
SELECT
    uscc,
    'complaint_spike',
    $severity,
    to_json({'complaints': n_month, 'trailing_months': $trailing_months::INTEGER, 'trailing_total': n_trailing,
        'trailing_mean': round(n_trailing / $trailing_months, 2)})::VARCHAR,
    format('本月收到投诉举报{}件，前{}个月共{}件（月均{:.2f}件）', n_month, $trailing_months::INTEGER, n_trailing,
        n_trailing / $trailing_months),
    $suggested_action
FROM counts
WHERE n_month >= $min_count AND n_month * $trailing_months >= $factor * n_trailing;
