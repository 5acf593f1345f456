-- Inspection plans (抽查计划): one row per drawn plan or stratum, with the inclusion probability π of each
-- enterprise it drew. Labels from random inspections are weighted by 1/π, so π is judged strictly: a
-- delivered π must lie in (0, 1]; an empty one is sample_size / frame_size for a random draw (simple random
-- sampling within the plan or stratum) and stays NULL for a special campaign (targeted, π not known).
CREATE SCHEMA IF NOT EXISTS staging;
CREATE TABLE IF NOT EXISTS staging.plans (
    plan_id         VARCHAR NOT NULL,   -- 抽查计划编号, unique across deliveries; one per stratum
    plan_name       VARCHAR,
    department      VARCHAR,            -- member unit leading the plan (牵头部门)
    kind            VARCHAR NOT NULL,   -- random (双随机) | special (专项)
    drawn_on        DATE NOT NULL,
    frame_size      BIGINT NOT NULL,    -- enterprises in the frame (抽查对象总数), >= 1
    sample_size     BIGINT NOT NULL,    -- enterprises drawn (抽取数量), 0 … frame_size
    inclusion_probability DOUBLE,       -- π (入选概率); NULL for special campaigns unless delivered
    _delivery_month DATE NOT NULL,
    _source_file    VARCHAR NOT NULL,
    _file_sha256    VARCHAR NOT NULL,
    _row_number     BIGINT NOT NULL,
    _line_number    BIGINT
);
COMMENT ON TABLE staging.plans IS
    'Inspection plans with frame size, sample size and inclusion probability, typed and validated (抽查计划)';

-- name: typed
-- One delivery ($month) typed, normalised and judged, the first problem of a row deciding its reason, into
-- _typed (quarantine.rows.sql#judge_duplicates and #split take it on).
CREATE OR REPLACE TEMP TABLE _typed AS
WITH delivered AS (
    SELECT
        r.*,
        CASE zs_text(r.kind) WHEN '双随机' THEN 'random' WHEN '专项' THEN 'special'
            ELSE lower(zs_text(r.kind)) END AS _kind,
        zs_int(r.frame_size) AS _frame,
        zs_int(r.sample_size) AS _sample,
        zs_double(r.inclusion_probability) AS _pi
    FROM raw.plans r
    WHERE r._delivery_month = $month
)
SELECT
    zs_text(r.plan_id) AS plan_id,
    zs_text(r.plan_name) AS plan_name,
    zs_text(r.department) AS department,
    r._kind AS kind,
    zs_date(r.drawn_on) AS drawn_on,
    r._frame AS frame_size,
    r._sample AS sample_size,
    CASE WHEN zs_text(r.inclusion_probability) IS NOT NULL THEN r._pi
        WHEN r._kind = 'random' THEN r._sample / nullif(r._frame, 0) END AS inclusion_probability,
    r._delivery_month, r._source_file, r._file_sha256, r._row_number, r._line_number,
    zs_text(r.plan_id) AS _key,
    zs_first_problem([
        zs_chk_malformed(r._raw_line),
        zs_chk_required('plan_id', r.plan_id),
        zs_chk_enum('kind', r.kind, r._kind, true, ['random', 'special']),
        zs_chk_date('drawn_on', r.drawn_on, true, $month_end),
        zs_chk_int('frame_size', r.frame_size, true),
        CASE WHEN r._frame = 0 THEN zs_problem('bad_number', 'frame_size',
            'frame size must be at least 1 (a draw needs enterprises to draw from)', r.frame_size) END,
        zs_chk_int('sample_size', r.sample_size, true),
        CASE WHEN r._sample > r._frame THEN zs_problem('bad_number', 'sample_size',
            'sample size exceeds frame_size (' || r._frame || ')', r.sample_size) END,
        CASE WHEN zs_text(r.inclusion_probability) IS NULL THEN NULL
            WHEN r._pi IS NULL THEN zs_problem('bad_number', 'inclusion_probability', 'not a plain number',
                r.inclusion_probability)
            -- NaN compares greater than any number in DuckDB, so it fails the upper bound.
            WHEN NOT (r._pi > 0 AND r._pi <= 1) THEN zs_problem('bad_number', 'inclusion_probability',
                'inclusion probability must lie in (0, 1]', r.inclusion_probability) END
    ]) AS _problem
FROM delivered r;
