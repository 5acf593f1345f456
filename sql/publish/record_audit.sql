INSERT INTO audit.audits VALUES (
    $table_name, $month, $check_name, $fingerprint, $rows, $passed, $detail::JSON, $checked_at::TIMESTAMP
);
