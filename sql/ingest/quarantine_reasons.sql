SELECT reason_code, count(*) AS n FROM quarantine.rows GROUP BY ALL ORDER BY n DESC, reason_code;
