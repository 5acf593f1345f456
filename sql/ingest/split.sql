-- Every judged row goes to exactly one place: staging.{source} or quarantine.rows (标准层 / 隔离区).
DELETE FROM staging.{source} WHERE _delivery_month = $month;
INSERT INTO staging.{source} BY NAME
SELECT * EXCLUDE (_problem) FROM _judged WHERE _problem IS NULL;
DELETE FROM quarantine.rows WHERE source = $source AND delivery_month = $month;
INSERT INTO quarantine.rows
SELECT
    $source,
    j._delivery_month,
    j._source_file,
    j._file_sha256,
    j._row_number,
    nullif(j._line_number, -1),
    j._problem.reason,
    j._problem.column,
    j._source_file || ': data row ' || j._row_number
        || coalesce(' (line ' || nullif(j._line_number, -1) || ')', '')
        || ', column ' || j._problem.column || ': ' || j._problem.detail
        || coalesce(' [value: "' || j._problem.value || '"]', ' [value: empty]'),
    to_json(r)
FROM _judged j
JOIN raw.{source} r
    ON r._delivery_month = j._delivery_month AND r._source_file = j._source_file AND r._row_number = j._row_number
WHERE j._problem IS NOT NULL;
