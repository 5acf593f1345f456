-- Inspection results (抽查检查结果), the feedback: result codes parsed into a list of canonical codes.
-- Codes may come as codes or as the Chinese wording; with no codes at all, the wording in result_text is mapped.
-- recorded_on (录入日期) is the day the result reached zs-risk; it dates the result's publication (sql/marts/publicity*).
CREATE SCHEMA IF NOT EXISTS staging;
CREATE TABLE IF NOT EXISTS staging.inspections (
    task_id         VARCHAR NOT NULL,   -- unique across deliveries
    plan_id         VARCHAR,
    uscc            VARCHAR NOT NULL,
    inspected_on    DATE NOT NULL,
    trigger         VARCHAR NOT NULL,   -- random | triggered | special
    result_codes    VARCHAR[] NOT NULL,
    problem_found   BOOLEAN NOT NULL,
    result_text     VARCHAR,
    department      VARCHAR,
    inspector_ids   VARCHAR[],
    recorded_on     DATE,               -- 录入日期: entered into the results system (delivered); NULL when not sent
    _delivery_month DATE NOT NULL,
    _source_file    VARCHAR NOT NULL,
    _file_sha256    VARCHAR NOT NULL,
    _row_number     BIGINT NOT NULL,
    _line_number    BIGINT
);
COMMENT ON TABLE staging.inspections IS 'Inspection results with canonical result codes, typed and validated (抽查检查结果)';

-- name: typed
-- One delivery ($month) typed, normalised and judged, the first problem of a row deciding its reason, into
-- _typed (quarantine.rows.sql#judge_duplicates and #split take it on).
CREATE OR REPLACE TEMP TABLE _typed AS
WITH delivered AS (
    SELECT r.*, coalesce(zs_text(r.result_codes), zs_text(r.result_text), '') AS _code_text
    FROM raw.inspections r
    WHERE r._delivery_month = $month
), tokens AS (
    SELECT _source_file, _row_number, trim(unnest(string_split_regex(_code_text, '[;、,]'))) AS token
    FROM delivered
), mapped AS (
    -- Each token is a canonical code or its Chinese wording; anything else is kept, marked with '?'.
    SELECT t._source_file, t._row_number, list(coalesce(c.code, '?' || t.token) ORDER BY t.token) AS codes
    FROM tokens t
    LEFT JOIN _ref_result_codes c ON c.code = upper(t.token) OR c.name_zh = t.token
    WHERE t.token <> ''
    GROUP BY ALL
), coded AS (
    SELECT d.*, coalesce(m.codes, []::VARCHAR[]) AS _codes
    FROM delivered d
    LEFT JOIN mapped m ON m._source_file = d._source_file AND m._row_number = d._row_number
)
SELECT
    zs_text(r.task_id) AS task_id,
    zs_text(r.plan_id) AS plan_id,
    zs_code(r.uscc) AS uscc,
    zs_date(r.inspected_on) AS inspected_on,
    CASE zs_text(r.trigger) WHEN '双随机' THEN 'random' WHEN '触发式' THEN 'triggered' WHEN '专项' THEN 'special'
        ELSE lower(zs_text(r.trigger)) END AS trigger,
    list_sort(list_distinct(r._codes)) AS result_codes,
    list_bool_or(list_transform(r._codes, lambda c: c NOT IN ('NO_ISSUE', 'NO_RELEVANT_ACTIVITY', 'CLOSED_OR_EXITED')))
        AS problem_found,
    zs_text(r.result_text) AS result_text,
    zs_text(r.department) AS department,
    list_filter(list_transform(string_split(zs_text(r.inspector_ids), ';'), lambda i: trim(i)), lambda i: i <> '')
        AS inspector_ids,
    zs_date(r.recorded_on) AS recorded_on,
    r._delivery_month, r._source_file, r._file_sha256, r._row_number, r._line_number,
    zs_text(r.task_id) AS _key,
    zs_first_problem([
        zs_chk_malformed(r._raw_line),
        zs_chk_required('task_id', r.task_id),
        zs_chk_uscc('uscc', r.uscc, true),
        zs_chk_date('inspected_on', r.inspected_on, true, $month_end),
        zs_chk_enum('trigger', r.trigger,
            CASE zs_text(r.trigger) WHEN '双随机' THEN 'random' WHEN '触发式' THEN 'triggered' WHEN '专项' THEN 'special'
                ELSE lower(zs_text(r.trigger)) END,
            true, ['random', 'triggered', 'special']),
        CASE WHEN len(r._codes) = 0 THEN zs_problem('missing_required', 'result_codes',
                'no result code and no result wording', r.result_codes)
            WHEN list_bool_or(list_transform(r._codes, lambda c: c LIKE '?%')) THEN zs_problem('bad_result_code',
                'result_codes', 'unknown result code or wording: '
                || array_to_string(list_transform(list_filter(r._codes, lambda c: c LIKE '?%'), lambda c: c[2:]), ';'),
                coalesce(r.result_codes, r.result_text)) END,
        -- No upper bound: a late delivery lands in the folder of its results' month, entered long after it.
        zs_chk_date('recorded_on', r.recorded_on, false, NULL::DATE),
        CASE WHEN zs_date(r.recorded_on) < zs_date(r.inspected_on) THEN zs_problem('recorded_before_inspection',
            'recorded_on', 'entered into the results system before the inspection date ' || zs_date(r.inspected_on),
            r.recorded_on) END
    ]) AS _problem
FROM coded r;
