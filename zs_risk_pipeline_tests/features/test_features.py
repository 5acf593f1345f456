"""Monthly enterprise features: catalogue ↔ table, one row per alive enterprise, point-in-time correctness
(later deliveries never change a computed month), hand-made cases for the tricky indicators, ranges, NULL
shares and a sanity check of the risk signal against the synthetic city's ground truth."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import math
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

import zs_risk_synth as synth
from zs_risk_pipeline.lib.core.month import Month
from zs_risk_pipeline.lib.features import enterprise_monthly
from zs_risk_pipeline.lib.ingest import staging
from zs_risk_pipeline.lib.ingest import uscc as uscc_lib
from zs_risk_pipeline_tests.conftest import TEST_KEY

# 13 months from August 2022: a first delivery after June carries the annual-report season just ended, so
# by the last months two seasons are known (report levels and trends are defined, as in production).
START, N_MONTHS = "2022-08", 13
MONTHS = [f"{2022 + (7 + i) // 12}-{(7 + i) % 12 + 1:02d}" for i in range(N_MONTHS)]
M, NEXT = MONTHS[-2], MONTHS[-1]  # 2023-07 and 2023-08
SOURCES = list(enterprise_monthly.SOURCES)
IN_SCOPE_CODES = {1, 2, 3, 4, 5, 6}  # entity_type_code of the six enterprise types (indicators.csv)
STEADY_STATE_NULLS = {
    "employees": 0.3,
    "insured_staff": 0.3,
    "insured_ratio": 0.3,
    "revenue_log": 0.3,
    "total_assets_log": 0.3,
    "employees_trend": 0.45,
    "insured_staff_trend": 0.45,
}


def day(s: str) -> dt.date:
    return dt.date.fromisoformat(s)


def first_day(month: str) -> dt.date:
    return day(month[:7] + "-01")


def month_rows(conn: duckdb.DuckDBPyConnection, month: str) -> list[tuple]:
    return conn.execute(
        "SELECT * FROM features.enterprise_monthly WHERE month = $m ORDER BY uscc", {"m": first_day(month)}
    ).fetchall()


def digest(conn: duckdb.DuckDBPyConnection, month: str) -> str:
    """SHA-256 of the month's ordered rows (repr of floats round-trips, so equal digests = equal values)."""
    return hashlib.sha256(repr(month_rows(conn, month)).encode()).hexdigest()


def frame(conn: duckdb.DuckDBPyConnection, month: str) -> pd.DataFrame:
    return conn.execute(
        "SELECT * FROM features.enterprise_monthly WHERE month = $m ORDER BY uscc", {"m": first_day(month)}
    ).df()


def ingest_months(conn: duckdb.DuckDBPyConnection, landing: Path, months: list[str], sources: list[str]) -> None:
    for month in months:
        for name in sources:
            staging.land(conn, name, month, landing)
            staging.stage(conn, name, month)


# --- the synthetic city ---------------------------------------------------------------------------------------


@dataclass
class City:
    root: Path
    conn: duckdb.DuckDBPyConnection

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse.duckdb"


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[City]:
    root = tmp_path_factory.mktemp("features_city")
    synth.generate(root / "landing", root / "truth", enterprises=3000, months=N_MONTHS, start=START, seed=5)
    conn = duckdb.connect(str(root / "warehouse.duckdb"))
    staging.prepare(conn, TEST_KEY.encode())
    ingest_months(conn, root / "landing", MONTHS, SOURCES)
    for month in (M, NEXT):
        enterprise_monthly.build_enterprise_monthly(conn, month)
    conn.execute("CHECKPOINT").fetchall()
    yield City(root, conn)
    conn.close()


def test_table_columns_are_the_catalogue(city: City) -> None:
    catalogue = enterprise_monthly.indicators()
    names = [i.name for i in catalogue]
    columns = [
        r[0]
        for r in city.conn.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = 'features' AND table_name = 'enterprise_monthly' ORDER BY ordinal_position"
        ).fetchall()
    ]
    assert columns == ["uscc", "month", *names]
    assert len(names) >= 40 and len(set(names)) == len(names)
    assert {i.dimension for i in catalogue} == set(enterprise_monthly.DIMENSIONS)
    assert all(
        i.name_zh and i.description and i.dimension_zh == enterprise_monthly.DIMENSIONS[i.dimension] for i in catalogue
    )
    assert all(i.direction == 0 for i in catalogue if i.kind == "categorical")
    # Comments: the table in English + Chinese, each column "description (中文名)", quotes escaped.
    table_comment = city.conn.execute(
        "SELECT comment FROM duckdb_tables() WHERE schema_name = 'features' AND table_name = 'enterprise_monthly'"
    ).fetchall()[0][0]
    assert "企业月度特征" in table_comment and "enterprise" in table_comment
    comments = dict(
        city.conn.execute(
            "SELECT column_name, comment FROM duckdb_columns() "
            "WHERE schema_name = 'features' AND table_name = 'enterprise_monthly'"
        ).fetchall()
    )
    assert {i.name: comments[i.name] for i in catalogue} == {i.name: i.comment for i in catalogue}
    assert any("'" in i.comment for i in catalogue)  # the escaping was exercised


def test_one_row_per_enterprise_alive_at_month_end(city: City) -> None:
    for month in (M, NEXT):
        n, distinct, codes = city.conn.execute(
            "SELECT count(*), count(DISTINCT uscc), list(DISTINCT entity_type_code) "
            "FROM features.enterprise_monthly WHERE month = $m",
            {"m": first_day(month)},
        ).fetchall()[0]
        assert n == distinct == enterprise_monthly.alive_count(city.conn, month) > 1000
        assert set(codes) <= IN_SCOPE_CODES
    # Every enterprise of the feature table is in scope and alive by its own latest registry record.
    bad = city.conn.execute(
        """
        SELECT count(*)
        FROM features.enterprise_monthly f
        JOIN (
            SELECT uscc, arg_max(status, record_date) AS status, arg_max(entity_type, record_date) AS entity_type
            FROM staging.registry
            WHERE _delivery_month <= $m AND record_date <= $end
            GROUP BY uscc
        ) r USING (uscc)
        WHERE f.month = $m AND (r.status NOT IN ('存续', '在业') OR NOT list_contains($types, r.entity_type))
        """,
        {"m": first_day(NEXT), "end": Month.of(NEXT).end, "types": enterprise_monthly.entity_types_in_scope()},
    ).fetchall()[0][0]
    assert bad == 0


def test_a_rerun_replaces_the_month(city: City, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "w.duckdb"
    shutil.copy(city.warehouse, path)
    with duckdb.connect(str(path)) as conn:
        before, other = digest(conn, M), digest(conn, NEXT)
        assert enterprise_monthly.build_enterprise_monthly(conn, f"{M}-01") == len(month_rows(conn, M))
        assert digest(conn, M) == before
        assert digest(conn, NEXT) == other

        # A failure after the old rows were deleted and the new ones inserted rolls the whole month back.
        real_run_sql = enterprise_monthly.run_sql

        def failing(conn_: duckdb.DuckDBPyConnection, name: str, *args: Any, **kwargs: Any) -> list[tuple]:
            rows = real_run_sql(conn_, name, *args, **kwargs)
            if name == "intermediate/features.enterprise_monthly.sql#replace_month":
                raise RuntimeError("disk full")
            return rows

        monkeypatch.setattr(enterprise_monthly, "run_sql", failing)
        conn.execute(
            "DELETE FROM features.enterprise_monthly WHERE month = $m AND uscc = "
            "(SELECT min(uscc) FROM features.enterprise_monthly WHERE month = $m)",
            {"m": first_day(M)},
        ).fetchall()
        damaged = digest(conn, M)
        with pytest.raises(RuntimeError, match="disk full"):
            enterprise_monthly.build_enterprise_monthly(conn, M)
        assert digest(conn, M) == damaged != before


def test_values_within_documented_ranges_and_null_shares(city: City) -> None:
    for month in (M, NEXT):
        df = frame(city.conn, month)
        for ind in enterprise_monthly.indicators():
            col = df[ind.name]
            assert col.isna().mean() <= ind.max_null_rate, (month, ind.name, col.isna().mean())
            values = col.dropna()
            if ind.min is not None:
                assert (values >= ind.min).all(), (month, ind.name, values.min())
            if ind.max is not None:
                assert (values <= ind.max).all(), (month, ind.name, values.max())
            if ind.kind == "binary":
                assert set(values.unique()) <= {0, 1}, ind.name
            if ind.kind == "categorical":
                assert (values == values.round()).all(), ind.name
        # The annual-report figures tolerate any NULL share (none before a season is delivered); with two
        # seasons delivered, as here, they must be known for most enterprises (as the descriptions say).
        for name, share in STEADY_STATE_NULLS.items():
            assert df[name].isna().mean() <= share, (month, name, df[name].isna().mean())


def test_risk_signal_follows_the_latent_risk(city: City) -> None:
    df = frame(city.conn, NEXT)
    truth = pd.read_parquet(city.root / "truth" / "latent_risk.parquet")
    risky = [i.name for i in enterprise_monthly.indicators() if i.direction == 1 and i.kind == "binary"]
    assert len(risky) >= 8
    joined = df.merge(truth, on="uscc", how="inner")
    assert len(joined) == len(df)
    signal = joined[risky].sum(axis=1)
    rho = joined["latent_risk"].rank().corr(signal.rank())  # Spearman = Pearson on ranks
    assert rho > 0.1, rho


# --- point in time ----------------------------------------------------------------------------------------


def write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def deliver(landing: Path, source: str, month: str, header: str, *rows: tuple[str, ...]) -> None:
    """One more landing file in a delivery, as a source system would drop it."""
    write_csv(landing / source / month / "extra.csv", [dict(zip(header.split(","), r, strict=True)) for r in rows])


def pick(conn: duckdb.DuckDBPyConnection, where: str, offset: int = 0) -> str:
    """An enterprise of month M, still there in M+1, matching a fixed condition (test-written SQL; the months
    travel as the parameters $m and $next)."""
    return conn.execute(
        "SELECT uscc FROM features.enterprise_monthly WHERE month = $m "
        "AND uscc IN (SELECT uscc FROM features.enterprise_monthly WHERE month = $next) "
        f"AND {where} ORDER BY uscc LIMIT 1 OFFSET $o",
        {"m": first_day(M), "next": first_day(NEXT), "o": offset},
    ).fetchall()[0][0]


def value(conn: duckdb.DuckDBPyConnection, month: str, uscc: str, column: str) -> Any:
    assert column in enterprise_monthly.indicator_names()
    rows = conn.execute(
        f"SELECT {column} FROM features.enterprise_monthly WHERE month = $m AND uscc = $u",
        {"m": first_day(month), "u": uscc},
    ).fetchall()
    return rows[0][0] if rows else None


def test_later_deliveries_never_change_a_computed_month(city: City, tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    shutil.copytree(city.root / "landing", landing)
    path = tmp_path / "w.duckdb"
    shutil.copy(city.warehouse, path)
    conn = duckdb.connect(str(path))
    staging.prepare(conn, TEST_KEY.encode())
    before = digest(conn, M)
    # Enterprises with nothing else delivered in M+1, so what M+1 shows below is what this test added.
    untouched = " AND ".join(
        f"uscc NOT IN (SELECT uscc FROM staging.{t} WHERE _delivery_month = $next)"
        for t in ("registry", "annual_reports", "abnormal_list", "dishonest_list", "penalties", "complaints")
    )
    clean = "penalties_36m = 0 AND complaints_12m = 0 AND abnormal_listed_now = 0 AND dishonest_ever = 0"
    quiet = pick(conn, f"{clean} AND {untouched}")
    listed = pick(conn, f"abnormal_listed_now = 1 AND {untouched}")
    missing = pick(conn, f"annual_report_missing = 1 AND {untouched}")
    leaving = pick(conn, f"{clean} AND {untouched}", offset=1)
    licence = conn.execute(
        """
        SELECT license_no, uscc, domain, issued_on, expires_on
        FROM staging.licenses
        WHERE _delivery_month <= $m AND status = '有效'
            AND uscc IN (SELECT uscc FROM features.enterprise_monthly WHERE month = $next)
            AND license_no NOT IN (SELECT license_no FROM staging.licenses WHERE _delivery_month = $next)
        ORDER BY license_no
        LIMIT 1
        """,
        {"m": first_day(M), "next": first_day(NEXT)},
    ).fetchall()[0]
    newcomer = "91442000MA0000001"
    newcomer += uscc_lib.check_char(newcomer)

    # Delivered in M+1: events dated inside M (late news) and after M's end, for enterprises of M.
    deliver(
        landing,
        "penalties",
        NEXT,
        "case_no,uscc,decided_on,violation_type,amount,severity",
        ("LATE-1", quiet, "2023-07-14", "虚假宣传", "50000", "较重"),
        ("LATE-2", quiet, "2023-08-03", "虚假宣传", "50000", "较重"),
    )
    deliver(
        landing,
        "complaints",
        NEXT,
        "complaint_id,uscc,received_on,channel,category,substantiated",
        *[(f"LATE-C{i}", quiet, d, "12345", "服务质量", "true") for i, d in enumerate(["2023-07-20", "2023-07-21"])],
        ("LATE-C3", quiet, "2023-08-02", "12315", "服务质量", "false"),
    )
    deliver(
        landing,
        "abnormal_list",
        NEXT,
        "uscc,action,reason_code,decided_on,authority",
        (quiet, "in", "unreachable", "2023-07-21", ""),
        *[(listed, "out", r, "2023-07-31", "") for r in ("late_annual_report", "not_publicized", "false_info")],
        (listed, "out", "unreachable", "2023-07-31", ""),
    )
    deliver(
        landing,
        "dishonest_list",
        NEXT,
        "uscc,action,reason_code,decided_on,authority",
        (quiet, "in", "serious_market_order", "2023-06-15", ""),
    )
    deliver(
        landing,
        "annual_reports",
        NEXT,
        "uscc,report_year,submitted_on,employees,social_insurance_count,revenue,total_assets",
        (missing, "2022", "2023-07-10", "7", "3", "120.5", "80"),
    )
    deliver(
        landing,
        "inspections",
        NEXT,
        "task_id,plan_id,uscc,inspected_on,trigger,result_codes,result_text,department,inspector_ids",
        ("LATE-T1", "", quiet, "2023-07-11", "random", "FOUND_PENDING", "", "SCJGJ", ""),
    )
    deliver(
        landing,
        "licenses",
        NEXT,
        "license_no,uscc,domain,issued_on,expires_on,status",
        (licence[0], licence[1], licence[2], str(licence[3]), str(licence[4] or ""), "吊销"),
    )
    # The registry delivery of M+1: every row changed, plus a deregistration and a registration dated in M.
    reg_file = next((landing / "registry" / NEXT).glob("*.csv"))
    with reg_file.open(encoding="utf-8", newline="") as f:
        reg = list(csv.DictReader(f))
    for r in reg:
        r["legal_rep_id"] = "LEAK" + r["legal_rep_id"][4:]
        r["address"] = "中山市石岐街道泄漏路1号"
    template = dict(reg[0])
    reg.append(
        {**template, "uscc": leaving, "status": "注销", "status_changed_on": "2023-07-25", "record_date": "2023-07-25"}
    )
    reg.append(
        {
            **template,
            "uscc": newcomer,
            "entity_type": "有限责任公司",
            "status": "存续",
            "established_on": "2023-07-10",
            "status_changed_on": "",
            "record_date": "2023-07-10",
        }
    )
    write_csv(reg_file, reg)
    ingest_months(conn, landing, [NEXT], SOURCES)

    enterprise_monthly.build_enterprise_monthly(conn, M)
    assert digest(conn, M) == before
    # The late news did arrive: the next month sees all of it.
    enterprise_monthly.build_enterprise_monthly(conn, NEXT)
    assert value(conn, NEXT, quiet, "penalties_12m") == 2
    assert value(conn, NEXT, quiet, "complaints_12m") == 3
    assert value(conn, NEXT, quiet, "abnormal_unreachable_now") == 1
    assert value(conn, NEXT, quiet, "dishonest_listed_now") == 1
    assert value(conn, NEXT, quiet, "inspections_problem_36m") >= 1
    assert value(conn, NEXT, listed, "abnormal_listed_now") == 0
    assert value(conn, NEXT, missing, "annual_report_missing") == 0
    assert value(conn, NEXT, licence[1], "licences_revoked") >= 1
    assert value(conn, NEXT, leaving, "age_years") is None  # deregistered: no row
    assert value(conn, NEXT, newcomer, "new_firm") == 1

    # Control: news delivered IN M does change M (so the comparison above can fail).
    deliver(
        landing,
        "penalties",
        M,
        "case_no,uscc,decided_on,violation_type,amount,severity",
        ("CTRL-1", quiet, "2023-07-05", "价格违法", "1000", "一般"),
    )
    ingest_months(conn, landing, [M], ["penalties"])
    enterprise_monthly.build_enterprise_monthly(conn, M)
    assert digest(conn, M) != before
    assert value(conn, M, quiet, "penalties_12m") == 1
    conn.close()


# --- hand-made cases on a tiny warehouse ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def empty_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse whose staging tables exist and are empty (created by ingesting an empty delivery)."""
    root = tmp_path_factory.mktemp("tiny")
    path = root / "empty.duckdb"
    with duckdb.connect(str(path)) as conn:
        staging.prepare(conn, TEST_KEY.encode())
        ingest_months(conn, root / "landing", ["2020-01"], SOURCES)
    return path


class Tiny:
    """Staging rows written by hand, with lineage as ingest would write it."""

    TABLES = frozenset(SOURCES)

    def __init__(self, conn: duckdb.DuckDBPyConnection) -> None:
        self.conn = conn
        self.row = 0

    def put(self, table: str, delivered: str, **values: Any) -> None:
        assert table in self.TABLES
        self.row += 1
        values = {
            **values,
            "_delivery_month": first_day(delivered),
            "_source_file": f"{table}/{delivered}/hand.csv",
            "_file_sha256": "0" * 64,
            "_row_number": self.row,
        }
        cols = list(values)
        self.conn.execute(
            f"INSERT INTO staging.{table} ({', '.join(cols)}) VALUES ({', '.join('$' + c for c in cols)})", values
        ).fetchall()

    def firm(self, uscc: str, delivered: str = "2023-01", record_date: str = "2023-01-01", **changes: Any) -> None:
        row = {
            "uscc": uscc,
            "name": f"{uscc}有限公司",
            "entity_type": "有限责任公司",
            "industry_code": "F5199",
            "town_code": "442000001",
            "registered_capital": 100,
            "established_on": day("2015-01-01"),
            "status": "存续",
            "legal_rep_hash": f"rep-{uscc}",
            "address": f"中山市石岐街道{uscc}路1号",
            "record_date": day(record_date),
        }
        row.update({k: day(v) if k == "established_on" else v for k, v in changes.items()})
        self.put("registry", delivered, **row)

    def listing(self, table: str, uscc: str, action: str, reason: str, decided_on: str, delivered: str) -> None:
        self.put(table, delivered, uscc=uscc, action=action, reason_code=reason, decided_on=day(decided_on))

    def report(
        self, uscc: str, year: int, submitted_on: str, delivered: str, employees: int = 10, insured: int = 5
    ) -> None:
        self.put(
            "annual_reports",
            delivered,
            uscc=uscc,
            report_year=year,
            submitted_on=day(submitted_on),
            employees=employees,
            social_insurance_count=insured,
            revenue=100,
            total_assets=50,
        )

    def features(self, month: str) -> dict[str, dict[str, Any]]:
        enterprise_monthly.build_enterprise_monthly(self.conn, month)
        cur = self.conn.execute(
            "SELECT * FROM features.enterprise_monthly WHERE month = $m ORDER BY uscc", {"m": first_day(month)}
        )
        names = [d[0] for d in cur.description]
        return {r[0]: dict(zip(names, r, strict=True)) for r in cur.fetchall()}


@pytest.fixture
def tiny(empty_warehouse: Path, tmp_path: Path) -> Iterator[Tiny]:
    path = tmp_path / "tiny.duckdb"
    shutil.copy(empty_warehouse, path)
    conn = duckdb.connect(str(path))
    yield Tiny(conn)
    conn.close()


def test_abnormal_list_status_as_of_month_end(tiny: Tiny) -> None:
    for f in "ABC":
        tiny.firm(f)
    tiny.listing("abnormal_list", "A", "in", "late_annual_report", "2023-07-05", "2023-07")
    tiny.listing("abnormal_list", "A", "out", "late_annual_report", "2023-09-12", "2023-09")
    tiny.listing("abnormal_list", "B", "in", "unreachable", "2023-06-10", "2023-06")
    tiny.listing("abnormal_list", "B", "in", "false_info", "2023-07-01", "2023-07")
    tiny.listing("abnormal_list", "B", "out", "false_info", "2023-08-20", "2023-08")
    # decided in August, delivered in September: unknown to August
    tiny.listing("abnormal_list", "C", "in", "not_publicized", "2023-08-30", "2023-09")

    jul = tiny.features("2023-07")
    assert (jul["A"]["abnormal_listed_now"], jul["A"]["abnormal_days_listed_now"]) == (1, 26)
    assert (jul["B"]["abnormal_unreachable_now"], jul["B"]["abnormal_false_info_now"]) == (1, 1)
    assert (jul["B"]["abnormal_days_listed_now"], jul["B"]["abnormal_listings_36m"]) == (51, 2)
    assert jul["C"]["abnormal_listed_now"] == 0
    aug = tiny.features("2023-08")
    assert (aug["A"]["abnormal_listed_now"], aug["A"]["abnormal_days_listed_now"]) == (1, 57)
    assert (aug["B"]["abnormal_listed_now"], aug["B"]["abnormal_unreachable_now"]) == (1, 1)
    assert aug["B"]["abnormal_false_info_now"] == 0
    assert aug["C"]["abnormal_listed_now"] == 0
    sep = tiny.features("2023-09")
    assert (sep["A"]["abnormal_listed_now"], sep["A"]["abnormal_days_listed_now"]) == (0, 0)
    assert sep["A"]["abnormal_listings_36m"] == 1
    assert sep["C"]["abnormal_listed_now"] == 1


def test_dishonest_list_now_and_ever(tiny: Tiny) -> None:
    tiny.firm("D")
    tiny.listing("dishonest_list", "D", "in", "serious_food_safety", "2022-03-01", "2023-01")
    tiny.listing("dishonest_list", "D", "out", "serious_food_safety", "2023-04-10", "2023-04")
    mar, apr = tiny.features("2023-03"), tiny.features("2023-04")
    assert (mar["D"]["dishonest_listed_now"], mar["D"]["dishonest_ever"]) == (1, 1)
    assert (apr["D"]["dishonest_listed_now"], apr["D"]["dishonest_ever"]) == (0, 1)


def test_annual_report_missing_and_late_across_the_due_date(tiny: Tiny) -> None:
    tiny.firm("L", established_on="2020-05-01")  # reports 2021 on time, 2022 late
    tiny.firm("N", established_on="2019-01-01")  # never reports
    tiny.firm("E", established_on="2022-12-31")  # due for 2022; files in time but it is delivered in July
    tiny.firm("O", established_on="2020-02-01")  # always on time
    tiny.firm("Y", delivered="2023-03", record_date="2023-03-01", established_on="2023-03-01")  # not due yet
    tiny.report("L", 2021, "2022-03-01", "2023-01", employees=10, insured=5)
    tiny.report("O", 2021, "2022-04-01", "2023-01")
    tiny.report("O", 2022, "2023-05-01", "2023-05")
    tiny.report("E", 2022, "2023-06-20", "2023-07")
    tiny.report("L", 2022, "2023-07-15", "2023-07", employees=20, insured=5)

    may = tiny.features("2023-05")  # last due year 2021; reports start with 2021 (earlier years not judged)
    assert {f: may[f]["annual_report_missing"] for f in "LNEOY"} == {"L": 0, "N": 1, "E": 0, "O": 0, "Y": 0}
    assert may["N"]["annual_reports_missing_3y"] == 1
    assert may["L"]["annual_report_late"] == 0
    jun = tiny.features("2023-06")  # last due year 2022 (deadline 30 June is inside June)
    assert {f: jun[f]["annual_report_missing"] for f in "LNEOY"} == {"L": 1, "N": 1, "E": 1, "O": 0, "Y": 0}
    assert {f: jun[f]["annual_reports_missing_3y"] for f in "LNEOY"} == {"L": 1, "N": 2, "E": 1, "O": 0, "Y": 0}
    assert jun["L"]["employees"] == 10 and jun["L"]["employees_trend"] is None
    jul = tiny.features("2023-07")
    assert {f: jul[f]["annual_report_missing"] for f in "LNEOY"} == {"L": 0, "N": 1, "E": 0, "O": 0, "Y": 0}
    assert {f: jul[f]["annual_report_late"] for f in "LNEOY"} == {"L": 1, "N": 0, "E": 0, "O": 0, "Y": 0}
    assert jul["L"]["employees"] == 20 and jul["L"]["insured_ratio"] == 0.25
    assert math.isclose(jul["L"]["employees_trend"], math.log(21 / 11))
    assert jul["N"]["employees"] is None and jul["N"]["insured_ratio"] is None


def test_related_party_shares_exclude_the_enterprise_itself(tiny: Tiny) -> None:
    rep = {"legal_rep_hash": "rep-shared"}
    tiny.firm("X", **rep, address="中山市石岐街道孙文路1号")
    tiny.firm("Y", **rep)
    tiny.firm("Z", **rep, status="吊销", address="石岐街道孙文路1号")  # revoked: related, not in business
    tiny.firm("W", **rep, address="广东省中山市石岐街道 孙文路 1 号")
    tiny.firm("V", **rep, status="注销")  # deregistered: off the register, not related
    tiny.firm("I", **rep, entity_type="个体工商户")  # an individual business: out of scope, still related
    tiny.firm("Q", address="中山市石岐街道孙文路1号")
    tiny.listing("abnormal_list", "X", "in", "unreachable", "2023-05-02", "2023-05")
    tiny.put(
        "penalties",
        "2023-05",
        case_no="P-1",
        uscc="Y",
        decided_on=day("2023-05-10"),
        violation_type="虚假宣传",
        amount=1000,
        severity="一般",
    )
    tiny.listing("dishonest_list", "I", "in", "serious_market_order", "2023-05-20", "2023-05")

    f = tiny.features("2023-08")
    assert sorted(f) == ["Q", "W", "X", "Y"]
    shares = (
        "legal_rep_others_abnormal_share",
        "legal_rep_others_penalised_share",
        "legal_rep_others_revoked_share",
        "legal_rep_others_dishonest_share",
    )
    assert f["X"]["legal_rep_other_firms"] == 4  # Y, Z, W, I
    assert tuple(f["X"][s] for s in shares) == (0, 0.25, 0.25, 0.25)
    assert tuple(f["W"][s] for s in shares) == (0.25, 0.25, 0.25, 0.25)
    assert tuple(f["Y"][s] for s in shares) == (0.25, 0, 0.25, 0.25)
    assert f["Q"]["legal_rep_other_firms"] == 0 and f["Q"]["legal_rep_others_abnormal_share"] == 0
    # One address, written three ways: X, W and Q share it; the revoked Z is not in business.
    assert {u: f[u]["address_other_firms"] for u in "XWQY"} == {"X": 2, "W": 2, "Q": 2, "Y": 0}
    assert (f["W"]["address_others_abnormal_share"], f["X"]["address_others_abnormal_share"]) == (0.5, 0)


def test_registry_changes_in_6_and_12_months(tiny: Tiny) -> None:
    base = {"legal_rep_hash": "rep-a", "address": "a1", "name": "n1", "registered_capital": 100}
    tiny.firm("G", **base)
    tiny.firm("G", "2023-03", "2023-03-15", **{**base, "legal_rep_hash": "rep-b"})
    v3 = {**base, "legal_rep_hash": "rep-b", "address": "a2"}
    tiny.firm("G", "2023-09", "2023-09-10", **v3)
    tiny.firm("G", "2023-11", "2023-09-10", **v3)  # the same record delivered again: no change
    v4 = {**v3, "name": "n2", "registered_capital": 50}
    tiny.firm("G", "2023-10", "2023-10-05", **v4)
    tiny.firm("G", "2024-03", "2024-02-20", **{**v4, "legal_rep_hash": "rep-c"})  # dated Feb, delivered Mar
    tiny.firm("H")
    tiny.firm("H", "2024-03", "2024-02-26", status="注销")  # deregistered in Feb, known from March

    feb = tiny.features("2024-02")
    g = feb["G"]
    assert (g["legal_rep_changes_6m"], g["legal_rep_changes_12m"]) == (0, 1)
    assert (g["address_changes_6m"], g["address_changes_12m"]) == (1, 1)
    assert (g["name_changes_6m"], g["name_changes_12m"]) == (1, 1)
    assert (g["capital_changes_6m"], g["capital_decreases_12m"]) == (1, 1)
    assert "H" in feb
    mar = tiny.features("2024-03")
    g = mar["G"]
    assert (g["legal_rep_changes_6m"], g["legal_rep_changes_12m"]) == (1, 1)  # March 2023 left the 12 months
    assert (g["address_changes_6m"], g["address_changes_12m"]) == (0, 1)  # September left the 6 months
    assert g["name_changes_6m"] == 1
    assert "H" not in mar
    assert (
        enterprise_monthly.alive_count(tiny.conn, "2024-02") == 2
        and enterprise_monthly.alive_count(tiny.conn, "2024-03") == 1
    )


def test_policy_and_month_validation(tmp_path: Path) -> None:
    scope = enterprise_monthly.entity_types_in_scope()
    assert "有限责任公司" in scope and "分支机构" in scope
    assert "个体工商户" not in scope and "农民专业合作社" not in scope
    custom = tmp_path / "features.yaml"
    custom.write_text("entity_types_in_scope: [合伙企业]\n", encoding="utf-8")
    assert enterprise_monthly.entity_types_in_scope(custom) == ["合伙企业"]
    custom.write_text("entity_types_in_scope: []\n", encoding="utf-8")
    with pytest.raises(ValueError, match="entity_types_in_scope"):
        enterprise_monthly.entity_types_in_scope(custom)
    assert enterprise_monthly.month_params("2024-03", ["x"])["month_end"] == day("2024-03-31")
    assert enterprise_monthly.month_params("2024-02-01", ["x"])["month_end"] == day("2024-02-29")
    for bad in ("2024-3", "2024-03-15", "24-03", "2024-13"):
        with pytest.raises(ValueError, match="YYYY-MM"):
            enterprise_monthly.month_params(bad, ["x"])
