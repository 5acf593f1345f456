"""The one-public export (一公开): working days across statutory holidays and 调休, deadlines counted by hand,
years the calendar package does not cover, the check that no tier, score or stratum gets out, the late flag,
write-audit-publish and byte-identical reruns."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb
import numpy as np
import pandas as pd
import pytest
from dagster_duckdb import DuckDBResource

from zs_risk_pipeline.defs.publicity import assets as publicity_assets
from zs_risk_pipeline.defs.resources import ZsRiskHome, ZsRiskPolicy
from zs_risk_pipeline.lib.core import settings, workdays
from zs_risk_pipeline.lib.policy.publicity import parse_calendar
from zs_risk_pipeline.lib.publicity import batches as publicity_batches
from zs_risk_pipeline.lib.publicity import export, export_files, export_rules
from zs_risk_pipeline_tests.conftest import policy_file, yaml_variant

CAL = workdays.Calendar()  # the package's statutory years only, whatever the operator's config holds
d = dt.date.fromisoformat


# --- working days ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "works"),
    [
        ("2024-09-27", True),  # Friday before the holiday
        ("2024-09-28", False),  # an ordinary Saturday
        ("2024-09-29", True),  # Sunday, make-up working day (调休上班) for National Day
        *[(f"2024-10-0{i}", False) for i in range(1, 8)],  # National Day holiday 10-01 … 10-07
        ("2024-10-08", True),
        ("2024-10-12", True),  # Saturday, make-up working day
        ("2024-10-13", False),
        ("2025-01-26", True),  # Sunday, make-up working day for Spring Festival 2025
        *[(f"2025-01-{i}", False) for i in range(28, 32)],  # Spring Festival 01-28 … 02-04
        *[(f"2025-02-0{i}", False) for i in range(1, 5)],
        ("2025-02-05", True),
        ("2025-02-08", True),  # Saturday, make-up working day
    ],
)
def test_statutory_working_days(day: str, works: bool) -> None:
    assert workdays.is_workday(d(day), CAL) is works


@pytest.mark.parametrize(
    ("formed", "n", "due"),
    [
        # 10-08..10-11 (4), 10-12 Sat make-up (5), 10-14..18 (10), 10-21..25 (15), 10-28..31 (19), 11-01 (20)
        ("2024-09-30", 20, "2024-11-01"),
        ("2024-10-03", 20, "2024-11-01"),  # formed inside the holiday: counting starts after it just the same
        # 09-03..06 (4), 09-09..13 (9), 09-14 Sat make-up (10), Mid-Autumn 09-15..17 off, 09-18..20 (13),
        # 09-23..27 (18), 09-29 Sun make-up (19), 09-30 (20)
        ("2024-09-02", 20, "2024-09-30"),
        # 01-26 Sun make-up (1), 01-27 (2), 01-28..02-04 off, 02-05..07 (5), 02-08 Sat make-up (6),
        # 02-10..14 (11), 02-17..21 (16), 02-24..27 (20)
        ("2025-01-24", 20, "2025-02-27"),
        ("2024-03-01", 1, "2024-03-04"),  # the day formed never counts: Friday → the Monday after
        ("2024-09-30", 1, "2024-10-08"),
    ],
)
def test_deadline_counted_by_hand(formed: str, n: int, due: str) -> None:
    assert workdays.deadline(d(formed), n, CAL) == (d(due), workdays.STATUTORY)


def test_many_deadlines_at_once_equal_one_by_one() -> None:
    days = np.arange(np.datetime64("2024-01-01"), np.datetime64("2026-12-31"), 5)
    many = workdays.add_workdays(days, 20, CAL)
    for i in (0, 57, 100, len(days) - 1):
        assert (many.dates[i].astype(dt.date), many.basis[i]) == workdays.deadline(days[i].astype(dt.date), 20, CAL)
    with pytest.raises(ValueError, match="positive integer"):
        workdays.add_workdays(days, 0, CAL)


def test_a_year_outside_the_package_counts_weekends_only_and_says_so() -> None:
    friday = d("2027-01-01")  # New Year's Day: a holiday in every year, but unknown for 2027 without a table
    assert workdays.is_workday(friday, CAL)
    assert workdays.deadline(d("2027-03-01"), 20, CAL) == (d("2027-03-29"), workdays.WEEKENDS_ONLY)
    # A deadline that runs from a statutory year into an unknown one is marked by the weaker basis.
    assert workdays.deadline(d("2026-12-21"), 20, CAL) == (d("2027-01-18"), workdays.WEEKENDS_ONLY)
    assert workdays.deadline(d("2026-11-02"), 20, CAL)[1] == workdays.STATUTORY


def test_a_configured_year_uses_the_operators_table() -> None:
    calendar = parse_calendar(
        {"years": {2027: {"holidays": ["2027-01-01", "2027-03-10"], "workdays": ["2027-03-13"]}}}, "publicity.yaml"
    )
    assert not workdays.is_workday(d("2027-01-01"), calendar)
    assert workdays.is_workday(d("2027-03-13"), calendar)  # a Saturday, make-up day in the table
    # 2027-03-01 Mon: 03-02..05 (4), 03-08, 09 (6), 03-10 off, 03-11, 12 (8), 03-13 Sat (9), 03-15..19 (14),
    # 03-22..26 (19), 03-29 (20)
    assert workdays.deadline(d("2027-03-01"), 20, calendar) == (d("2027-03-29"), workdays.CONFIGURED)
    # The package covers 2025: an entry for it is ignored and reported, the statutory schedule stands.
    covered = parse_calendar({"years": {2025: {"holidays": ["2025-02-05"], "workdays": []}}}, "x.yaml")
    assert covered.ignored_years == [2025] and workdays.is_workday(d("2025-02-05"), covered)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda doc: doc["calendar"]["years"].update({2027: {"workdays": ["2027-03-10"]}}),
            r"calendar\.years\.2027\.workdays: \['2027-03-10'\] fall on Monday–Friday",
        ),
        (
            lambda doc: doc["calendar"]["years"].update({2027: {"holidays": ["2028-01-01"]}}),
            r"calendar\.years\.2027\.holidays: \['2028-01-01'\] are not in 2027",
        ),
        (
            lambda doc: doc["calendar"]["years"].update({2027: {"holidays": ["soon"]}}),
            r"calendar\.years\.2027\.holidays: 'soon' is not a date",
        ),
        (
            lambda doc: doc["calendar"]["years"].update(
                {2027: {"holidays": ["2027-10-01"], "workdays": ["2027-10-01"]}}
            ),
            r"calendar\.years\.2027\.workdays: \['2027-10-01'\] fall on Monday–Friday",
        ),
        (
            lambda doc: doc["calendar"]["years"].update(
                {2027: {"holidays": ["2027-10-02"], "workdays": ["2027-10-02"]}}
            ),
            r"calendar\.years\.2027: \['2027-10-02'\] listed both as holiday and as workday",
        ),
        (lambda doc: doc["calendar"]["years"].update({3000: {}}), r"calendar\.years\.3000: the key must be a year"),
        (lambda doc: doc["calendar"].update(months={}), r"calendar\.months: unknown key \(allowed: years\)"),
        # the publication date follows from the batch now: the monthly publication day is gone, not ignored
        (lambda doc: doc.update(publication_day=2), r"publication_day: unknown key \(allowed: calendar"),
        (lambda doc: doc.update(deadline_working_days=0), r"deadline_working_days: must be an integer in \[1, 250\]"),
        (lambda doc: doc.update(tiers=True), "tiers: unknown key"),
        (lambda doc: doc["departments"].update(GAJ=" "), r"departments: must map member-unit codes to authority names"),
    ],
)
def test_bad_config_is_refused_naming_file_and_field(tmp_path: Path, edit, message: str) -> None:
    path = yaml_variant(tmp_path, policy_file("publicity.yaml"), edit)
    with pytest.raises(ValueError, match=r"publicity\.yaml.*" + message):
        export_rules.load_config(path)


def test_shipped_config() -> None:
    config = export_rules.load_config()
    assert config.deadline_working_days == 20 and not hasattr(config, "publication_day")
    assert config.departments["SCJGJ"] == "中山市市场监督管理局"
    assert not config.calendar.tables  # no 2027 schedule shipped: none could be sourced reliably


# --- the export check --------------------------------------------------------------------------------------


def _good_table() -> pd.DataFrame:
    row = [
        "MR-GENERAL-2024-09-00001",
        "91442000MA4UPQ7T2A",
        "中山市示例照明有限公司",
        "MR-GENERAL-2024-09",
        "2024年9月企业公示信息双随机抽查",
        "双随机抽查",
        "中山市市场监督管理局",
        "2024-09-02",
        "未发现问题",
        "2024-10-08",
        "2024-09-30",
        "是",
        "法定节假日安排",
    ]
    return pd.DataFrame([row], columns=list(export_rules.EXPORT_COLUMNS))


def test_the_contract_passes_the_check() -> None:
    assert export_rules.check_export(_good_table()) == []


@pytest.mark.parametrize("column", ["tier", "Risk_Tier", "score", "probability", "stratum", "风险等级", "分层", "得分"])
def test_the_check_catches_a_risk_column(column: str) -> None:
    table = _good_table().assign(**{column: "D"})
    problems = export_rules.check_export(table)
    assert any(column in p and "not in the one-public contract" in p for p in problems)
    assert any(column in p and "internal risk data" in p for p in problems)


def test_the_check_catches_a_risk_column_renamed_into_the_contract() -> None:
    # the tier smuggled into a coded column, and a per-stratum plan named after its tier
    table = _good_table()
    table.loc[0, "检查类型"] = "D"
    table.loc[0, "抽查计划名称"] = "2024年9月D类企业双随机抽查"
    problems = " ".join(export_rules.check_export(table))
    assert "column 检查类型" in problems and "column 抽查计划名称" in problems
    assert export_rules.check_export(
        _good_table()[list(reversed(export_rules.EXPORT_COLUMNS))]
    )  # order is the contract


# --- a small warehouse -------------------------------------------------------------------------------------

M = "2024-09"
A, B, C = "91442000MA4UPQ7T2A", "92442000MA5FQP5L3T", "91442000MATMEJTX28"
TIERS_SECRET = {"tier": "D", "score": 0.987654, "probability": 0.876543, "points": 777, "reason": "机密原因XYZ"}

TABLES = """
CREATE SCHEMA staging;
CREATE TABLE staging.inspections (task_id VARCHAR, plan_id VARCHAR, uscc VARCHAR, inspected_on DATE,
    trigger VARCHAR, result_text VARCHAR, department VARCHAR, recorded_on DATE, _delivery_month DATE,
    _source_file VARCHAR, _file_sha256 VARCHAR, _row_number BIGINT);
CREATE TABLE staging.registry (uscc VARCHAR, name VARCHAR, record_date DATE, _delivery_month DATE,
    _source_file VARCHAR, _row_number BIGINT);
CREATE TABLE staging.plans (plan_id VARCHAR, plan_name VARCHAR, department VARCHAR, _delivery_month DATE,
    _source_file VARCHAR, _row_number BIGINT);
CREATE SCHEMA raw;
CREATE TABLE raw.landing_files (source VARCHAR, delivery_month DATE, file VARCHAR, sha256 VARCHAR, status VARCHAR,
    ingested_at TIMESTAMP);
"""
WEEK_2 = "inspections/2024-09/inspections_20240913.csv"
WEEK_4 = "inspections/2024-09/inspections_20240927.csv"
LAST = "inspections/2024-09/inspections_20240930.csv"
# Landing files as ingested (ingested_at in UTC): 2024-09-29 17:30 UTC is 09-30 01:30 in Zhongshan.
LANDED = [(WEEK_2, "2024-09-13 09:00:00"), (WEEK_4, "2024-09-29 17:30:00"), (LAST, "2024-09-30 10:00:00")]
INSPECTIONS = [
    # formed 09-02, deadline 09-30; entered on the deadline day itself → published 10-08 (National Day) → late
    (
        "MR-GENERAL-2024-09-00001",
        "MR-GENERAL-2024-09",
        A,
        "2024-09-02",
        "random",
        "未发现问题",
        "SCJGJ",
        "2024-09-30",
        LAST,
    ),
    # formed 09-10, entered 09-13 (Fri) → published 09-14, a Saturday make-up working day; deadline 10-14
    (
        "JT-GAJ-2024-09-00001",
        "JT-GAJ-2024-09",
        B,
        "2024-09-10",
        "random",
        "发现问题已责令改正",
        "GAJ",
        "2024-09-13",
        WEEK_2,
    ),
    # no entry date: dated by its file's ingestion, 09-30 in Zhongshan → the batch is published 10-08
    ("TR-202409-00001", None, C, "2024-09-20", "triggered", "未发现问题", "SCJGJ", None, WEEK_4),
    # plan delivered only in October: its name is not known in September
    (
        "SP-GAS-2024-09-00001",
        "SP-GAS-2024-09",
        A,
        "2024-09-25",
        "special",
        "发现问题待后续处理",
        "NEWCODE",
        "2024-09-27",
        WEEK_4,
    ),
]
REGISTRY = [
    (A, "中山市旧名照明有限公司", "2020-01-01", "2024-01-01"),
    (A, "中山市新名照明有限公司", "2024-09-10", "2024-09-01"),  # renamed in M: the export shows this name
    (A, "中山市十月改名有限公司", "2024-10-02", "2024-10-01"),  # after M: never shown for M
    (B, "中山市石岐区示例美容院", "2019-05-05", "2024-01-01"),
    (C, "中山市小榄示例五金厂", "2018-03-03", "2024-01-01"),
]
PLANS = [
    ("MR-GENERAL-2024-09", "2024年9月企业公示信息双随机抽查", "SCJGJ", "2024-09-01"),
    ("JT-GAJ-2024-09", "2024年9月治安管理部门联合双随机抽查", "GAJ", "2024-09-01"),
    ("SP-GAS-2024-09", "2024年9月燃气具专项检查", "SCJGJ", "2024-10-01"),
]


def sha(file: str, version: int = 1) -> str:
    return hashlib.sha256(f"{file}#{version}".encode()).hexdigest()


def deliver(
    conn: duckdb.DuckDBPyConnection,
    file: str,
    rows: list[tuple],
    *,
    version: int = 1,
    ingested_at: str = "2024-10-01 02:00:00",
    month: str = M,
) -> None:
    """A landing file as ingest leaves it: its rows in staging.inspections and its entry in raw.landing_files.
    rows: (task_id, plan_id, uscc, inspected_on, trigger, result_text, department, recorded_on)."""
    digest = sha(file, version)
    conn.execute("DELETE FROM staging.inspections WHERE _source_file = ?", [file])  # a re-delivery replaces it
    for i, r in enumerate(rows, start=1):
        conn.execute(
            "INSERT INTO staging.inspections VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [*r[:8], f"{month}-01", file, digest, i],
        )
    conn.execute(
        "INSERT INTO raw.landing_files VALUES ('inspections', ?, ?, ?, 'ingested', ?)",
        [f"{month}-01", file, digest, ingested_at],
    )


def build(conn: duckdb.DuckDBPyConnection, reverse: bool = False, with_tiers: bool = True) -> None:
    """The few columns sql/marts/publicity* read; optionally rows inserted in reverse order, and the internal tables
    (tiers with distinctive values, a stratified frame) beside them."""
    conn.execute(TABLES)
    order = (lambda rows: list(reversed(rows))) if reverse else list
    landed = dict(LANDED)
    for file in order(list(landed)):
        deliver(conn, file, order([r[:8] for r in INSPECTIONS if r[8] == file]), ingested_at=landed[file])
    for i, r in enumerate(order(REGISTRY)):
        conn.execute("INSERT INTO staging.registry VALUES (?, ?, ?, ?, 'r.csv', ?)", [*r, i])
    for i, r in enumerate(order(PLANS)):
        conn.execute("INSERT INTO staging.plans VALUES (?, ?, ?, ?, 'p.csv', ?)", [*r, i])
    if with_tiers:
        conn.execute(
            "CREATE SCHEMA tiers; CREATE TABLE tiers.enterprise_monthly AS "
            "SELECT DATE '2024-09-01' AS month, u AS uscc, $tier AS tier, $score AS score, "
            "$probability AS probability, $points AS points, $tier AS tier_by_score, [$reason] AS reasons "
            "FROM unnest([$a, $b, $c]) t(u)",
            {**TIERS_SECRET, "a": A, "b": B, "c": C},
        )
        conn.execute(
            "CREATE SCHEMA sampling; CREATE TABLE sampling.frame AS "
            "SELECT 'MR-GENERAL-2024-10' AS plan_id, $a AS uscc, 'D' AS stratum, 0.5 AS inclusion_probability",
            {"a": A},
        )


NOW = dt.datetime(2024, 10, 2, 6, 0, tzinfo=dt.UTC)  # when the monthly chain runs


def publish(conn: duckdb.DuckDBPyConnection, month: str, exports: Path) -> export.ExportResult:
    """What the monthly chain does: the month's batches not yet published, then the month's record."""
    publicity_batches.publish_batches(conn, month, exports, now=NOW)
    return export.export_month(conn, month, exports)


@pytest.fixture
def conn() -> Iterator[duckdb.DuckDBPyConnection]:
    c = duckdb.connect()
    build(c)
    yield c
    c.close()


def _digests(exports: Path) -> dict[str, str]:
    return {
        label: hashlib.sha256(p.read_bytes()).hexdigest() for label, p in export_files.file_paths(exports, M).items()
    }


def _batch_files(exports: Path, month: str = M) -> dict[str, bytes]:
    folder = export_files.folder_of(exports, month) / export_rules.BATCH_DIR
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())} if folder.exists() else {}


def test_export_rows_deadlines_and_late_flag(conn: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    out = publish(conn, M, tmp_path)
    assert (out.rows, out.late, out.batches) == (4, 1, 3)
    assert (out.first_published, out.last_published) == (d("2024-09-14"), d("2024-10-08"))
    assert out.departments_unmapped == {"NEWCODE": 1} and out.names_missing == 0
    table = export_rules.read_export(export_files.file_paths(tmp_path, M)["utf8"], "utf8")
    assert tuple(table.columns) == export_rules.EXPORT_COLUMNS
    first, second, triggered, special = (r for _, r in table.iterrows())  # ordered by date, then task
    assert (first["检查日期"], first["公示截止日期"], first["公示日期"], first["是否超期"]) == (
        "2024-09-02",
        "2024-09-30",
        "2024-10-08",
        "是",
    )
    # each result dated by its batch, not by the month: the second was public four days after its inspection
    assert (second["公示日期"], second["公示截止日期"], second["是否超期"]) == ("2024-09-14", "2024-10-14", "否")
    assert (triggered["公示日期"], special["公示日期"]) == ("2024-10-08", "2024-10-08")
    assert first["企业名称"] == "中山市新名照明有限公司"  # the registry as of the end of M
    assert (first["检查类型"], triggered["检查类型"], special["检查类型"]) == ("双随机抽查", "触发式检查", "专项检查")
    assert (triggered["抽查计划编号"], triggered["抽查计划名称"]) == ("", "")
    assert (special["抽查计划编号"], special["抽查计划名称"]) == ("SP-GAS-2024-09", "")  # plan not yet delivered
    assert (second["检查实施机关"], special["检查实施机关"]) == ("中山市公安局", "NEWCODE")
    assert set(table["截止日期口径"]) == {"法定节假日安排"}
    late = export.late_rows(conn, M)
    assert [(r[0], r[4], r[6], r[7]) for r in late] == [
        ("MR-GENERAL-2024-09-00001", d("2024-09-30"), "2024-10-08_inspections_20240930", 21)
    ]
    stored = conn.execute(
        "SELECT count(*), count(*) FILTER (WHERE late = (working_days_taken > 20)) FROM publicity.inspection_results"
    ).fetchall()
    assert stored == [(4, 4)]
    comment = conn.execute(
        "SELECT comment FROM duckdb_tables() WHERE schema_name = 'publicity' AND table_name = 'inspection_results'"
    ).fetchall()[0][0]
    assert "inspection results" in comment and "delivered late by its source" in comment and "一公开" in comment


def test_each_landing_file_is_published_as_a_batch_dated_by_its_arrival(
    conn: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    out = publicity_batches.publish_batches(conn, M, tmp_path, now=NOW)
    assert [(b.batch_id, b.source_file, b.rows, b.late) for b in out.batches] == [
        ("2024-09-14_inspections_20240913", WEEK_2, 1, 0),
        ("2024-10-08_inspections_20240927", WEEK_4, 2, 0),  # its row without 录入日期: ingested 09-30 in Zhongshan
        ("2024-10-08_inspections_20240930", LAST, 1, 1),
    ]
    assert _batch_files(tmp_path).keys() == {
        f"{b.batch_id}.{label}.csv" for b in out.batches for label in export_rules.ENCODINGS
    } | {f"{b.batch_id}.xlsx" for b in out.batches}  # and each batch's Excel copy
    for b in out.batches:
        files = export_files.batch_paths(tmp_path, M, b.batch_id)
        assert export_rules.verify_files(files) == ([], b.rows)  # the monthly file's check, on every batch
        assert files["utf8"].read_text(encoding="utf-8-sig").splitlines()[0].split(",") == list(
            export_rules.EXPORT_COLUMNS
        )
    stored = conn.execute(
        "SELECT batch_id, file_sha256, row_count, arrived_on, rows_without_recorded_on, published_on, late_rows "
        "FROM publicity.result_batches ORDER BY batch_id"
    ).fetchall()
    assert stored[1] == ("2024-10-08_inspections_20240927", sha(WEEK_4), 2, d("2024-09-30"), 1, d("2024-10-08"), 0)
    per_row = conn.execute(
        "SELECT task_id, published_on, late FROM publicity.result_batch_rows ORDER BY task_id"
    ).fetchall()
    assert per_row == [
        ("JT-GAJ-2024-09-00001", d("2024-09-14"), False),
        ("MR-GENERAL-2024-09-00001", d("2024-10-08"), True),
        ("SP-GAS-2024-09-00001", d("2024-10-08"), False),
        ("TR-202409-00001", d("2024-10-08"), False),
    ]


def test_a_result_of_the_first_of_the_month_recorded_three_working_days_later_is_in_time(tmp_path: Path) -> None:
    # Before: month M was published on the 2nd of M+1, after this result's deadline (late by construction).
    conn = duckdb.connect()
    conn.execute(TABLES)
    file = "inspections/2024-11/inspections_20241108.csv"
    row = ("MR-GENERAL-2024-11-00001", "MR-GENERAL-2024-11", A, "2024-11-01", "random", "未发现问题", "SCJGJ")
    deliver(conn, file, [(*row, "2024-11-06")], month="2024-11")  # Fri 11-01 + 3 working days: Wed 11-06
    out = publish(conn, "2024-11", tmp_path)
    assert (out.rows, out.late) == (1, 0)
    table = export_rules.read_export(export_files.file_paths(tmp_path, "2024-11")["utf8"], "utf8")
    assert (table.loc[0, "公示日期"], table.loc[0, "公示截止日期"], table.loc[0, "是否超期"]) == (
        "2024-11-07",
        "2024-11-29",
        "否",
    )
    assert workdays.roll_forward(d("2024-12-02"), CAL).dates[0].astype(dt.date) > d("2024-11-29")  # the old date
    assert export.late_rows(conn, "2024-11") == []


def test_a_file_delivered_after_the_deadline_is_late(conn: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    # formed 09-03, deadline 10-08; the member unit enters it only on 10-21
    late_file = "inspections/2024-09/inspections_202409_late.csv"
    row = ("MR-GENERAL-2024-09-00002", "MR-GENERAL-2024-09", B, "2024-09-03", "random", "未发现问题", "SCJGJ")
    deliver(conn, late_file, [(*row, "2024-10-21")])
    publish(conn, M, tmp_path)
    late = {r[0]: r for r in export.late_rows(conn, M)}
    assert set(late) == {"MR-GENERAL-2024-09-00001", "MR-GENERAL-2024-09-00002"}
    _, _, inspected, deadline, recorded, published, batch, days, _ = late["MR-GENERAL-2024-09-00002"]
    assert (inspected, deadline, recorded, published) == (
        d("2024-09-03"),
        d("2024-10-08"),
        d("2024-10-21"),
        d("2024-10-22"),
    )
    assert batch == "2024-10-22_inspections_202409_late" and days > 20
    batch_late = conn.execute(
        "SELECT late_rows FROM publicity.result_batches WHERE source_file = ?", [late_file]
    ).fetchall()
    assert batch_late == [(1,)]


def test_a_published_batch_is_never_rewritten(conn: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    first = publicity_batches.publish_batches(conn, M, tmp_path, now=NOW)
    files = {
        p: (p.stat().st_ino, p.stat().st_mtime_ns)
        for b in first.batches
        for p in export_files.batch_paths(tmp_path, M, b.batch_id).values()
    }
    before = _batch_files(tmp_path)
    # a rerun, days later: the rows without 录入日期 would now be dated otherwise, yet nothing is published again
    again = publicity_batches.publish_batches(conn, M, tmp_path, now=NOW + dt.timedelta(days=9))
    assert (again.published, again.problems) == ([], [])
    assert [b.batch_id for b in again.unchanged] == [b.batch_id for b in first.batches]
    assert _batch_files(tmp_path) == before
    assert {p: (p.stat().st_ino, p.stat().st_mtime_ns) for p in files} == files  # not even rewritten in place
    assert conn.execute("SELECT count(*) FROM publicity.result_batch_rows").fetchall() == [(4,)]


def test_a_rebuilt_warehouse_finds_its_batches_in_place(conn: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    publicity_batches.publish_batches(conn, M, tmp_path, now=NOW)
    before = {p: p.stat().st_mtime_ns for p in (export_files.folder_of(tmp_path, M) / export_rules.BATCH_DIR).iterdir()}
    fresh = duckdb.connect()  # the warehouse rebuilt from the landing, the exports kept
    build(fresh)
    out = publicity_batches.publish_batches(fresh, M, tmp_path, now=NOW)
    assert sorted(out.adopted) == sorted(b.batch_id for b in out.published) and len(out.adopted) == 3
    assert {p: p.stat().st_mtime_ns for p in before} == before  # recorded again, not written again


def test_a_changed_file_is_a_new_batch_and_keeps_the_first_publication(
    conn: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    publish(conn, M, tmp_path)
    before = _batch_files(tmp_path)
    # WEEK_2 re-delivered with one more result (other bytes), entered the same day: a new batch of the same date
    gaj = next(r for r in INSPECTIONS if r[8] == WEEK_2)[:8]
    extra = ("JT-GAJ-2024-09-00002", "JT-GAJ-2024-09", C, "2024-09-11", "random", "未发现问题", "GAJ", "2024-09-13")
    deliver(conn, WEEK_2, [gaj, extra], version=2, ingested_at="2024-09-16 01:00:00")
    out = publicity_batches.publish_batches(conn, M, tmp_path, now=NOW)
    assert [(b.batch_id, b.rows) for b in out.published] == [
        (f"2024-09-14_inspections_20240913_{sha(WEEK_2, 2)[:8]}", 2)
    ]
    after = _batch_files(tmp_path)
    assert {k: after[k] for k in before} == before  # the earlier batches stand, byte for byte
    export.export_month(conn, M, tmp_path)
    dated = dict(conn.execute("SELECT task_id, batch_id FROM publicity.inspection_results").fetchall())
    assert dated["JT-GAJ-2024-09-00001"] == "2024-09-14_inspections_20240913"  # first made public there
    assert dated["JT-GAJ-2024-09-00002"] == out.published[0].batch_id


def test_a_batch_changed_on_disk_is_reported_and_not_rewritten(conn: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    first = publicity_batches.publish_batches(conn, M, tmp_path, now=NOW)
    path = export_files.batch_paths(tmp_path, M, first.batches[0].batch_id)["gb18030"]
    tampered = path.read_bytes().replace("发现问题已责令改正".encode("gb18030"), "未发现问题".encode("gb18030"))
    path.write_bytes(tampered)
    again = publicity_batches.publish_batches(conn, M, tmp_path, now=NOW)
    assert again.published == [] and len(again.unchanged) == 2
    assert any(path.name in p and "changed since published" in p for p in again.problems)
    assert path.read_bytes() == tampered  # reported, never overwritten
    problems, batches, _ = publicity_batches.verify_batches(conn, M, tmp_path)
    assert batches == 3 and any(path.name in p for p in problems)


def test_the_months_record_waits_for_its_batches(conn: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    with pytest.raises(export.NotYetPublished, match="publicity/result_batches"):
        export.export_month(conn, M, tmp_path)
    assert not export_files.file_paths(tmp_path, M)["utf8"].exists()


def test_files_decode_in_both_encodings_and_carry_no_tier_or_score(
    conn: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    publish(conn, M, tmp_path)
    files = export_files.file_paths(tmp_path, M)
    assert files["utf8"].read_bytes().startswith(b"\xef\xbb\xbf")
    texts = {
        "utf8": files["utf8"].read_bytes().decode("utf-8-sig"),
        "gb18030": files["gb18030"].read_bytes().decode("gb18030"),
    }
    assert texts["utf8"] == texts["gb18030"] and "中山市新名照明有限公司" in texts["utf8"]
    with pytest.raises(UnicodeDecodeError):
        files["gb18030"].read_bytes().decode("utf-8")  # really GB18030 bytes, not UTF-8 under another name
    batches = [
        b.decode("gb18030" if n.endswith("gb18030.csv") else "utf-8-sig")
        for n, b in _batch_files(tmp_path).items()
        if n.endswith(".csv")  # the Excel copies are read back in test_xlsx.py
    ]
    for text in [*texts.values(), *batches]:
        header = text.splitlines()[0].split(",")
        assert header == list(export_rules.EXPORT_COLUMNS)
        for secret in ("0.987654", "0.876543", "777", "机密原因XYZ", "0.5"):
            assert secret not in text
    assert export_rules.verify_files(files) == ([], 4)


def test_nothing_from_the_tiers_reaches_the_export(conn: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    publish(conn, M, tmp_path / "with_tiers")
    without = duckdb.connect()
    build(without, with_tiers=False)
    publish(without, M, tmp_path / "without_tiers")
    assert _digests(tmp_path / "with_tiers") == _digests(tmp_path / "without_tiers")
    assert _batch_files(tmp_path / "with_tiers") == _batch_files(tmp_path / "without_tiers")


def test_a_stratum_of_a_stratified_plan_is_published_as_its_plan(
    conn: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    """zs-risk's plans are delivered back one sub-plan per stratum (`<plan_id>/<stratum>`); a stratum is a tier, so
    the one-public file names only the plan, with the plan's own name."""
    stratum = "MR-GENERAL-2024-09/D"
    conn.execute(
        "INSERT INTO staging.plans VALUES (?, '2024年9月企业公示信息双随机抽查', 'SCJGJ', ?, 'p2.csv', 1)",
        [stratum, f"{M}-01"],
    )
    week_3 = "inspections/2024-09/inspections_20240920_platform.csv"
    row = ("MR-GENERAL-2024-09-00007", stratum, B, "2024-09-18", "random", "发现问题已责令改正", "SCJGJ", "2024-09-20")
    deliver(conn, week_3, [row], ingested_at="2024-09-20 09:00:00")
    publish(conn, M, tmp_path)
    texts = [export_files.file_paths(tmp_path, M)["utf8"].read_bytes().decode("utf-8-sig")]
    texts += [b.decode("utf-8-sig") for n, b in _batch_files(tmp_path).items() if n.endswith("utf8.csv")]
    for text in texts:
        assert "/D" not in text
    published = pd.read_csv(io.StringIO(texts[0]), dtype=str)
    mine = published[published["任务编号"] == "MR-GENERAL-2024-09-00007"]
    assert len(mine) == 1 and mine["抽查计划编号"].tolist() == ["MR-GENERAL-2024-09"]
    assert mine["抽查计划名称"].tolist() == ["2024年9月企业公示信息双随机抽查"]


def test_two_runs_write_byte_identical_files(conn: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    publish(conn, M, tmp_path / "a")
    publish(conn, M, tmp_path / "a")  # a rerun replaces the month in place
    other = duckdb.connect()
    build(other, reverse=True)  # same rows, delivered in another order
    publish(other, M, tmp_path / "b")
    assert _digests(tmp_path / "a") == _digests(tmp_path / "b")
    assert _batch_files(tmp_path / "a") == _batch_files(tmp_path / "b")
    assert conn.execute("SELECT count(*) FROM publicity.inspection_results").fetchall() == [(4,)]


def test_a_restated_month_keeps_what_was_published_before(conn: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    publish(conn, M, tmp_path)
    files = export_files.file_paths(tmp_path, M)
    published = [*files.values(), export_files.workbook_path(files)]  # the Excel copy goes with its CSVs
    first = {p.name: p.read_bytes() for p in published}
    publish(conn, M, tmp_path)  # unchanged: nothing superseded
    assert not (export_files.folder_of(tmp_path, M) / "superseded").exists()
    row = ("MR-GENERAL-2024-09-00002", "MR-GENERAL-2024-09", B, "2024-09-03", "random", "未发现问题", "SCJGJ")
    deliver(conn, "inspections/2024-09/i2.csv", [(*row, "2024-10-09")])  # late results delivered for the month
    publish(conn, M, tmp_path)
    kept = export_files.folder_of(tmp_path, M) / "superseded" / "v1"
    assert {p.name: p.read_bytes() for p in kept.iterdir()} == first
    assert all(p.read_bytes() != first[p.name] for p in published)


def test_a_failing_check_leaves_the_previous_files(
    conn: duckdb.DuckDBPyConnection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    publish(conn, M, tmp_path)
    before, batches_before = _digests(tmp_path), _batch_files(tmp_path)
    row = ("MR-GENERAL-2024-09-00002", "MR-GENERAL-2024-09", B, "2024-09-03", "random", "未发现问题", "SCJGJ")
    deliver(conn, "inspections/2024-09/i2.csv", [(*row, "2024-09-05")])
    real_batch, real_month = export_files.batch_frame, export_files.export_frame

    def leaking_batch(c: duckdb.DuckDBPyConnection, batch_id: str) -> pd.DataFrame:  # a bug joins the tiers in
        return real_batch(c, batch_id).assign(风险等级="D")

    monkeypatch.setattr(export_files, "batch_frame", leaking_batch)
    with pytest.raises(export_rules.ExportRefused, match="风险等级"):
        publicity_batches.publish_batches(conn, M, tmp_path, now=NOW)
    assert _batch_files(tmp_path) == batches_before  # no batch, and no hidden file left behind
    assert conn.execute("SELECT count(*) FROM publicity.result_batch_rows").fetchall() == [(4,)]
    monkeypatch.setattr(export_files, "batch_frame", real_batch)
    publicity_batches.publish_batches(conn, M, tmp_path, now=NOW)

    def leaking(c: duckdb.DuckDBPyConnection, month: dt.date) -> pd.DataFrame:
        return real_month(c, month).assign(风险等级="D")

    monkeypatch.setattr(export_files, "export_frame", leaking)
    with pytest.raises(export_rules.ExportRefused, match="风险等级"):
        export.export_month(conn, M, tmp_path)
    assert _digests(tmp_path) == before
    files = export_files.file_paths(tmp_path, M)
    assert sorted(p.name for p in export_files.folder_of(tmp_path, M).iterdir() if p.is_file()) == sorted(
        p.name for p in [*files.values(), export_files.workbook_path(files)]
    )  # no hidden file left behind
    # the warehouse table was rolled back with the files: still the four rows that were published
    assert conn.execute("SELECT count(*) FROM publicity.inspection_results").fetchall() == [(4,)]


def test_a_month_without_results_publishes_the_header(conn: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    out = publish(conn, "2024-08", tmp_path)
    assert (out.rows, out.late, out.batches) == (0, 0, 0)
    assert export_rules.verify_files(export_files.file_paths(tmp_path, "2024-08")) == ([], 0)
    assert _batch_files(tmp_path, "2024-08") == {}


def test_summary_lines(conn: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    paths = settings.Paths(tmp_path)
    assert "no inspection results exported yet" in export.summary_lines(paths, conn)[0]
    publish(conn, M, paths.exports)
    lines = export.summary_lines(paths, conn)
    assert "2024-09: 4 results" in lines[0] and "3 batches (2024-09-14 … 2024-10-08)" in lines[0]
    assert "1 after the 20-working-day deadline" in lines[0]
    assert str(export_files.file_paths(paths.exports, M)["utf8"]) in lines[1]
    assert "late results by month (each delivered late by its source): 2024-09 1" in lines[-1]


def test_through_dagster_the_checks_verify_the_files_and_warn_about_late_rows(home: settings.Paths) -> None:
    with duckdb.connect(str(home.warehouse)) as c:
        build(c)
    result = dg.materialize(
        [
            publicity_assets.result_batches,
            publicity_assets.batches_unchanged_and_carry_no_tier_score_or_stratum,
            publicity_assets.inspection_results,
            publicity_assets.export_carries_no_tier_score_or_stratum,
            publicity_assets.results_published_within_20_working_days,
        ],
        partition_key=f"{M}-01",
        resources={
            "warehouse": DuckDBResource(database=str(home.warehouse)),
            "zs_home": ZsRiskHome(home=str(home.home)),
            "policy": ZsRiskPolicy(),
        },
    )
    assert result.success
    batches = result.asset_materializations_for_node("publicity__result_batches")[0].metadata
    assert batches["batches_published"].value == 3 and batches["late_rows_published"].value == 1
    md = result.asset_materializations_for_node("publicity__inspection_results")[0].metadata
    assert md["late_rows"].value == 1 and md["dagster/partition_row_count"].value == 4
    assert md["batches"].value == 3
    assert set(md["files_sha256"].value) == {str(p) for p in export_files.file_paths(home.exports, M).values()}
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert checks["batches_unchanged_and_carry_no_tier_score_or_stratum"].passed
    assert checks["export_carries_no_tier_score_or_stratum"].passed
    late = checks["results_published_within_20_working_days"]
    assert not late.passed and late.severity == dg.AssetCheckSeverity.WARN
    assert "MR-GENERAL-2024-09-00001" in late.metadata["late"].value and "2024-09-30" in late.metadata["late"].value
