-- A key that repeats within one delivery: the first row stands, later ones go to quarantine.
-- Runs on _typed (built by the source's staging file), producing _judged.
CREATE OR REPLACE TEMP TABLE _judged AS
SELECT * EXCLUDE (_key, _first) REPLACE (
    coalesce(_problem, CASE WHEN _first IS NOT NULL THEN zs_problem('duplicate_key', $key_columns,
        'repeats the key (' || $key_columns || ') of ' || _first, _key) END) AS _problem)
FROM (
    SELECT
        *,
        CASE WHEN _problem IS NULL AND row_number() OVER w > 1
            THEN first_value(_source_file || ' row ' || _row_number) OVER w END AS _first
    FROM _typed
    WINDOW w AS (PARTITION BY _problem IS NULL, _key ORDER BY _source_file, _row_number)
);
