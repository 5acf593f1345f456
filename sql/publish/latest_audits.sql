-- The latest result of each check of one month of a table.
SELECT check_name, fingerprint, passed, rows, checked_at
FROM audit.audits
WHERE table_name = $table_name AND month = $month
-- rowid breaks ties between results recorded within the same clock tick: the later insert wins.
QUALIFY row_number() OVER (PARTITION BY check_name ORDER BY checked_at DESC, rowid DESC) = 1
ORDER BY check_name;
