-- For case numbers and work orders: a key already staged from an earlier delivery is a duplicate too.
UPDATE _judged j
SET _problem = zs_problem('duplicate_key', $key_columns,
    'already delivered in ' || strftime(s._delivery_month, '%Y-%m') || ' (' || s._source_file || ')', j.{key})
FROM (
    SELECT {key}, min(_delivery_month) AS _delivery_month,
        arg_min(_source_file, _delivery_month) AS _source_file
    FROM staging.{source}
    WHERE _delivery_month < $month
    GROUP BY {key}
) s
WHERE j._problem IS NULL AND j.{key} = s.{key};
