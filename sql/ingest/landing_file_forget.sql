DELETE FROM raw.landing_files WHERE source = $source AND delivery_month = $month;
