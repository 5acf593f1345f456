"""The one-public export (一公开): working days across statutory holidays and 调休, deadlines counted by hand,
years the calendar package does not cover, the check that no tier, score or stratum gets out, the late flag,
write-audit-publish and byte-identical reruns."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb
import numpy as np
import pandas as pd
import pytest
from dagster_duckdb import DuckDBResource

from zs_risk_pipeline.defs.publicity import assets as publicity_assets
from zs_risk_pipeline.defs.resources import ZsRiskHome
from zs_risk_pipeline.lib import publicity, settings, workdays
from zs_risk_pipeline_tests.conftest import yaml_variant

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
    calendar = workdays.parse_calendar(
        {"years": {2027: {"holidays": ["2027-01-01", "2027-03-10"], "workdays": ["2027-03-13"]}}}, "publicity.yaml"
    )
    assert not workdays.is_workday(d("2027-01-01"), calendar)
    assert workdays.is_workday(d("2027-03-13"), calendar)  # a Saturday, make-up day in the table
    # 2027-03-01 Mon: 03-02..05 (4), 03-08, 09 (6), 03-10 off, 03-11, 12 (8), 03-13 Sat (9), 03-15..19 (14),
    # 03-22..26 (19), 03-29 (20)
    assert workdays.deadline(d("2027-03-01"), 20, calendar) == (d("2027-03-29"), workdays.CONFIGURED)
    # The package covers 2025: an entry for it is ignored and reported, the statutory schedule stands.
    covered = workdays.parse_calendar({"years": {2025: {"holidays": ["2025-02-05"], "workdays": []}}}, "x.yaml")
    assert covered.ignored_years == [2025] and workdays.is_workday(d("2025-02-05"), covered)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda doc: doc["calendar"]["years"].update({2027: {"workdays": ["2027-03-10"]}}), r"Monday–Friday"),
        (lambda doc: doc["calendar"]["years"].update({2027: {"holidays": ["2028-01-01"]}}), r"not in 2027"),
        (lambda doc: doc["calendar"]["years"].update({2027: {"holidays": ["soon"]}}), r"years\.2027\.holidays"),
        (lambda doc: doc.update(publication_day=31), "publication_day"),
        (lambda doc: doc.update(deadline_working_days=0), "deadline_working_days"),
        (lambda doc: doc.update(tiers=True), "unknown keys"),
    ],
)
def test_bad_config_is_refused_naming_file_and_field(tmp_path: Path, edit, message: str) -> None:
    path = yaml_variant(tmp_path, publicity.CONFIG_PATH, edit)
    with pytest.raises(ValueError, match=r"publicity\.yaml.*" + message):
        publicity.load_config(path)


def test_shipped_config() -> None:
    config = publicity.load_config()
    assert config.deadline_working_days == 20 and config.publication_day == 2
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
    return pd.DataFrame([row], columns=list(publicity.EXPORT_COLUMNS))


def test_the_contract_passes_the_check() -> None:
    assert publicity.check_export(_good_table()) == []


@pytest.mark.parametrize("column", ["tier", "Risk_Tier", "score", "probability", "stratum", "风险等级", "分层", "得分"])
def test_the_check_catches_a_risk_column(column: str) -> None:
    table = _good_table().assign(**{column: "D"})
    problems = publicity.check_export(table)
    assert any(column in p and "not in the one-public contract" in p for p in problems)
    assert any(column in p and "internal risk data" in p for p in problems)


def test_the_check_catches_a_risk_column_renamed_into_the_contract() -> None:
    # the tier smuggled into a coded column, and a per-stratum plan named after its tier
    table = _good_table()
    table.loc[0, "检查类型"] = "D"
    table.loc[0, "抽查计划名称"] = "2024年9月D类企业双随机抽查"
    problems = " ".join(publicity.check_export(table))
    assert "column 检查类型" in problems and "column 抽查计划名称" in problems
    assert publicity.check_export(_good_table()[list(reversed(publicity.EXPORT_COLUMNS))])  # order is the contract


# --- a small warehouse -------------------------------------------------------------------------------------

M = "2024-09"
A, B, C = "91442000MA4UPQ7T2A", "92442000MA5FQP5L3T", "91442000MATMEJTX28"
TIERS_SECRET = {"tier": "D", "score": 0.987654, "probability": 0.876543, "points": 777, "reason": "机密原因XYZ"}

TABLES = """
CREATE SCHEMA staging;
CREATE TABLE staging.inspections (task_id VARCHAR, plan_id VARCHAR, uscc VARCHAR, inspected_on DATE,
    trigger VARCHAR, result_text VARCHAR, department VARCHAR, _delivery_month DATE, _source_file VARCHAR,
    _row_number BIGINT);
CREATE TABLE staging.registry (uscc VARCHAR, name VARCHAR, record_date DATE, _delivery_month DATE,
    _source_file VARCHAR, _row_number BIGINT);
CREATE TABLE staging.plans (plan_id VARCHAR, plan_name VARCHAR, department VARCHAR, _delivery_month DATE,
    _source_file VARCHAR, _row_number BIGINT);
"""
INSPECTIONS = [
    # formed 09-02: deadline 09-30, published 10-08 (10-02 is in the National Day holiday) → late, 21 days
    ("MR-GENERAL-2024-09-00001", "MR-GENERAL-2024-09", A, "2024-09-02", "random", "未发现问题", "SCJGJ"),
    # formed 09-10: deadline 10-14 → in time
    ("JT-GAJ-2024-09-00001", "JT-GAJ-2024-09", B, "2024-09-10", "random", "发现问题已责令改正", "GAJ"),
    ("TR-202409-00001", None, C, "2024-09-20", "triggered", "未发现问题", "SCJGJ"),
    # plan delivered only in October: its name is not known in September
    ("SP-GAS-2024-09-00001", "SP-GAS-2024-09", A, "2024-09-25", "special", "发现问题待后续处理", "NEWCODE"),
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


def build(conn: duckdb.DuckDBPyConnection, reverse: bool = False, with_tiers: bool = True) -> None:
    """The few columns sql/publicity/ reads; optionally rows inserted in reverse order, and the internal tables
    (tiers with distinctive values, a stratified frame) beside them."""
    conn.execute(TABLES)
    order = (lambda rows: list(reversed(rows))) if reverse else list
    for i, r in enumerate(order(INSPECTIONS)):
        conn.execute("INSERT INTO staging.inspections VALUES (?, ?, ?, ?, ?, ?, ?, '2024-09-01', 'i.csv', ?)", [*r, i])
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


@pytest.fixture
def conn() -> Iterator[duckdb.DuckDBPyConnection]:
    c = duckdb.connect()
    build(c)
    yield c
    c.close()


def _digests(exports: Path) -> dict[str, str]:
    return {label: hashlib.sha256(p.read_bytes()).hexdigest() for label, p in publicity.file_paths(exports, M).items()}


def test_export_rows_deadlines_and_late_flag(conn: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    out = publicity.export_month(conn, M, tmp_path)
    assert (out.rows, out.late, out.published_on) == (4, 1, d("2024-10-08"))
    assert out.departments_unmapped == {"NEWCODE": 1} and out.names_missing == 0
    table = publicity.read_export(publicity.file_paths(tmp_path, M)["utf8"], "utf8")
    assert tuple(table.columns) == publicity.EXPORT_COLUMNS
    first, second, triggered, special = (r for _, r in table.iterrows())  # ordered by date, then task
    assert (first["检查日期"], first["公示截止日期"], first["公示日期"], first["是否超期"]) == (
        "2024-09-02",
        "2024-09-30",
        "2024-10-08",
        "是",
    )
    assert (second["公示截止日期"], second["是否超期"]) == ("2024-10-14", "否")
    assert first["企业名称"] == "中山市新名照明有限公司"  # the registry as of the end of M
    assert (first["检查类型"], triggered["检查类型"], special["检查类型"]) == ("双随机抽查", "触发式检查", "专项检查")
    assert (triggered["抽查计划编号"], triggered["抽查计划名称"]) == ("", "")
    assert (special["抽查计划编号"], special["抽查计划名称"]) == ("SP-GAS-2024-09", "")  # plan not yet delivered
    assert (second["检查实施机关"], special["检查实施机关"]) == ("中山市公安局", "NEWCODE")
    assert set(table["截止日期口径"]) == {"法定节假日安排"}
    late = publicity.late_rows(conn, M)
    assert [(r[0], r[5]) for r in late] == [("MR-GENERAL-2024-09-00001", 21)]
    stored = conn.execute(
        "SELECT count(*), count(*) FILTER (WHERE late = (working_days_taken > 20)) FROM publicity.inspection_results"
    ).fetchall()
    assert stored == [(4, 4)]
    comment = conn.execute(
        "SELECT comment FROM duckdb_tables() WHERE schema_name = 'publicity' AND table_name = 'inspection_results'"
    ).fetchall()[0][0]
    assert "Inspection results" in comment and "一公开" in comment


def test_files_decode_in_both_encodings_and_carry_no_tier_or_score(
    conn: duckdb.DuckDBPyConnection, tmp_path: Path
) -> None:
    publicity.export_month(conn, M, tmp_path)
    files = publicity.file_paths(tmp_path, M)
    assert files["utf8"].read_bytes().startswith(b"\xef\xbb\xbf")
    texts = {
        "utf8": files["utf8"].read_bytes().decode("utf-8-sig"),
        "gb18030": files["gb18030"].read_bytes().decode("gb18030"),
    }
    assert texts["utf8"] == texts["gb18030"] and "中山市新名照明有限公司" in texts["utf8"]
    with pytest.raises(UnicodeDecodeError):
        files["gb18030"].read_bytes().decode("utf-8")  # really GB18030 bytes, not UTF-8 under another name
    for text in texts.values():
        header = text.splitlines()[0].split(",")
        assert header == list(publicity.EXPORT_COLUMNS)
        for secret in ("0.987654", "0.876543", "777", "机密原因XYZ", "0.5"):
            assert secret not in text
    assert publicity.verify_files(files) == ([], 4)


def test_nothing_from_the_tiers_reaches_the_export(conn: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    publicity.export_month(conn, M, tmp_path / "with_tiers")
    without = duckdb.connect()
    build(without, with_tiers=False)
    publicity.export_month(without, M, tmp_path / "without_tiers")
    assert _digests(tmp_path / "with_tiers") == _digests(tmp_path / "without_tiers")


def test_two_runs_write_byte_identical_files(conn: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    publicity.export_month(conn, M, tmp_path / "a")
    publicity.export_month(conn, M, tmp_path / "a")  # a rerun replaces the month in place
    other = duckdb.connect()
    build(other, reverse=True)  # same rows, delivered in another order
    publicity.export_month(other, M, tmp_path / "b")
    assert _digests(tmp_path / "a") == _digests(tmp_path / "b")
    assert conn.execute("SELECT count(*) FROM publicity.inspection_results").fetchall() == [(4,)]


def test_a_restated_month_keeps_what_was_published_before(conn: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    publicity.export_month(conn, M, tmp_path)
    first = {p.name: p.read_bytes() for p in publicity.file_paths(tmp_path, M).values()}
    publicity.export_month(conn, M, tmp_path)  # unchanged: nothing superseded
    assert not (publicity.folder_of(tmp_path, M) / "superseded").exists()
    conn.execute(  # late results delivered for the month
        "INSERT INTO staging.inspections VALUES ('MR-GENERAL-2024-09-00002', 'MR-GENERAL-2024-09', $b, "
        "'2024-09-03', 'random', '未发现问题', 'SCJGJ', '2024-09-01', 'i2.csv', 1)",
        {"b": B},
    )
    publicity.export_month(conn, M, tmp_path)
    kept = publicity.folder_of(tmp_path, M) / "superseded" / "v1"
    assert {p.name: p.read_bytes() for p in kept.iterdir()} == first
    assert all(p.read_bytes() != first[p.name] for p in publicity.file_paths(tmp_path, M).values())


def test_a_failing_check_leaves_the_previous_files(
    conn: duckdb.DuckDBPyConnection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    publicity.export_month(conn, M, tmp_path)
    before = _digests(tmp_path)
    conn.execute(
        "INSERT INTO staging.inspections VALUES ('MR-GENERAL-2024-09-00002', 'MR-GENERAL-2024-09', $b, "
        "'2024-09-03', 'random', '未发现问题', 'SCJGJ', '2024-09-01', 'i2.csv', 1)",
        {"b": B},
    )
    real = publicity.export_frame

    def leaking(c: duckdb.DuckDBPyConnection, month: dt.date) -> pd.DataFrame:  # a bug joins the tiers in
        return real(c, month).assign(风险等级="D")

    monkeypatch.setattr(publicity, "export_frame", leaking)
    with pytest.raises(publicity.ExportRefused, match="风险等级"):
        publicity.export_month(conn, M, tmp_path)
    assert _digests(tmp_path) == before
    assert sorted(p.name for p in publicity.folder_of(tmp_path, M).iterdir()) == sorted(
        p.name for p in publicity.file_paths(tmp_path, M).values()
    )  # no hidden file left behind
    # the warehouse table was rolled back with the files: still the four rows that were published
    assert conn.execute("SELECT count(*) FROM publicity.inspection_results").fetchall() == [(4,)]


def test_a_month_without_results_publishes_the_header(conn: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    out = publicity.export_month(conn, "2024-08", tmp_path)
    assert (out.rows, out.late) == (0, 0)
    assert publicity.verify_files(publicity.file_paths(tmp_path, "2024-08")) == ([], 0)


def test_summary_lines(conn: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    paths = settings.Paths(tmp_path)
    assert "no inspection results exported yet" in publicity.summary_lines(paths, conn)[0]
    publicity.export_month(conn, M, paths.exports)
    lines = publicity.summary_lines(paths, conn)
    assert "2024-09: 4 results" in lines[0] and "1 after the 20-working-day deadline" in lines[0]
    assert str(publicity.file_paths(paths.exports, M)["utf8"]) in lines[1]


def test_through_dagster_the_checks_verify_the_files_and_warn_about_late_rows(home: settings.Paths) -> None:
    with duckdb.connect(str(home.warehouse)) as c:
        build(c)
    result = dg.materialize(
        [
            publicity_assets.inspection_results,
            publicity_assets.export_carries_no_tier_score_or_stratum,
            publicity_assets.results_published_within_20_working_days,
        ],
        partition_key=f"{M}-01",
        resources={
            "warehouse": DuckDBResource(database=str(home.warehouse)),
            "zs_home": ZsRiskHome(home=str(home.home)),
        },
    )
    assert result.success
    md = result.asset_materializations_for_node("publicity__inspection_results")[0].metadata
    assert md["late_rows"].value == 1 and md["dagster/partition_row_count"].value == 4
    assert set(md["files_sha256"].value) == {str(p) for p in publicity.file_paths(home.exports, M).values()}
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert checks["export_carries_no_tier_score_or_stratum"].passed
    late = checks["results_published_within_20_working_days"]
    assert not late.passed and late.severity == dg.AssetCheckSeverity.WARN
    assert "MR-GENERAL-2024-09-00001" in late.metadata["late"].value
