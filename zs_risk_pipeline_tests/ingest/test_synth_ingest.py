"""The synthetic city with injected defects goes through ingest: nothing is lost, each defect has its code."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pytest

import zs_risk_synth as synth
from zs_risk_pipeline.lib.ingest import staging
from zs_risk_pipeline.lib.ingest.contract import sources
from zs_risk_pipeline_tests.conftest import TEST_KEY

MONTHS = ["2023-01", "2023-02", "2023-03"]
# Defects the contract says to normalise are staged; the others are quarantined with their own reason.
EXPECTED_REASON = {
    "bad_check_digit": "uscc_checksum",
    "unknown_town": "unknown_town_code",
    "future_date": "future_date",
    "missing_value": "missing_required",
    "duplicate": "duplicate_key",
}
NORMALISED = {"fullwidth", "lowercase", "chinese_date"}


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, duckdb.DuckDBPyConnection]:
    root = tmp_path_factory.mktemp("city")
    synth.generate(
        root / "landing",
        root / "truth",
        enterprises=2500,
        months=len(MONTHS),
        start=MONTHS[0],
        seed=11,
        defect_rate=0.03,
    )
    conn = duckdb.connect(str(root / "warehouse.duckdb"))
    staging.prepare(conn, TEST_KEY.encode())
    for month in MONTHS:
        for name in sources():
            staging.land(conn, name, month, root / "landing")
            staging.stage(conn, name, month)
    return root, conn


def test_every_file_reconciles(city):
    root, conn = city
    for month in MONTHS:
        for name in sources():
            rep = staging.report(conn, name, month)
            assert rep.balanced, (name, month, rep.files)
            # the same bytes again (an unchanged directory, or another month's file without rows) are a
            # repeated delivery, never ingested twice; everything else is ingested
            delivered = staging.files(conn, name, month)
            assert all(f.status == "ingested" or f.error_code == staging.REPEATED for f in delivered), delivered
    landed = conn.execute("SELECT count(*), sum(rows_read) FROM raw.landing_files").fetchall()[0]
    files_on_disk = [p for p in (root / "landing").rglob("*") if p.is_file()]
    assert landed[0] == len(files_on_disk)


def test_each_defect_class_ends_where_it_should(city):
    root, conn = city
    with open(root / "truth" / "defects.csv", encoding="utf-8") as fh:
        defects = list(csv.DictReader(fh))
    assert {d["defect_class"] for d in defects} >= set(EXPECTED_REASON) | NORMALISED
    quarantined = {
        (f, r): (code, col)
        for f, r, code, col in conn.execute(
            "SELECT source_file, row_number, reason_code, column_name FROM quarantine.rows"
        ).fetchall()
    }
    checked = {k: 0 for k in [*EXPECTED_REASON, *NORMALISED]}
    for d in defects:
        key = (d["file"], int(d["row_number"]))
        cls = d["defect_class"]
        if cls in NORMALISED:
            assert key not in quarantined, (d, quarantined.get(key))
        else:
            assert key in quarantined, d
            assert quarantined[key][0] == EXPECTED_REASON[cls], (d, quarantined[key])
            if cls != "duplicate":
                assert quarantined[key][1] == d["column"], (d, quarantined[key])
        checked[cls] += 1
    assert all(n > 0 for n in checked.values()), checked
    # nothing else is quarantined: every quarantined row is an injected defect
    assert set(quarantined) <= {(d["file"], int(d["row_number"])) for d in defects}


@pytest.fixture(scope="module")
def clean_city(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    """Six clean months (quarterly joint plans in March and June, special campaigns in January, March-June):
    plans and inspections staged, nothing quarantined, so every drawn enterprise is there to count."""
    root = tmp_path_factory.mktemp("clean_city")
    months = [f"2023-{m:02d}" for m in range(1, 7)]
    synth.generate(root / "landing", root / "truth", enterprises=5000, months=len(months), start=months[0], seed=1)
    conn = duckdb.connect(str(root / "warehouse.duckdb"))
    staging.prepare(conn, TEST_KEY.encode())
    for month in months:
        for name in ("plans", "inspections"):
            staging.land(conn, name, month, root / "landing")
            assert staging.stage(conn, name, month).quarantined_rows == 0
    # Results entered after the window's last day are not delivered yet: the ground truth names them.
    conn.execute(
        "CREATE TABLE in_transit AS SELECT task_id FROM read_parquet($p) WHERE landing_file IS NULL",
        {"p": str(root / "truth" / "inspections.parquet")},
    )
    return conn


def test_every_random_inspection_joins_one_plan_with_its_inclusion_probability(clean_city):
    conn = clean_city
    per_inspection = conn.execute(
        "SELECT i.task_id, count(p.plan_id) AS plans, any_value(p.kind) AS kind, "
        "any_value(p.inclusion_probability) AS pi "
        "FROM staging.inspections i LEFT JOIN staging.plans p USING (plan_id) "
        "WHERE i.trigger = 'random' GROUP BY i.task_id"
    ).fetchall()
    assert len(per_inspection) > 100
    assert all(n == 1 and kind == "random" and 0 < pi <= 1 for _, n, kind, pi in per_inspection)
    # Each plan's sample is exactly the inspections it caused (delivered, or for the last month's plans partly
    # still in transit), π = sample / frame, drawn before the first one.
    plans = conn.execute(
        "SELECT p.plan_id, p.kind, p.sample_size, p.frame_size, p.inclusion_probability, p.drawn_on, "
        "    count(i.task_id) FILTER (i.trigger = p.kind) AS inspected, min(i.inspected_on) AS first_inspection, "
        "    p._delivery_month, "
        "    (SELECT count(*) FROM in_transit t WHERE t.task_id LIKE p.plan_id || '-%') AS in_transit "
        "FROM staging.plans p LEFT JOIN staging.inspections i USING (plan_id) GROUP BY ALL"
    ).fetchall()
    assert {kind for _, kind, *_ in plans} == {"random", "special"}
    for plan_id, kind, sample, frame, pi, drawn, inspected, first, delivered, transit in plans:
        assert sample == inspected + transit and 1 <= sample <= frame, plan_id
        assert transit == 0 or delivered.month == 6, plan_id  # only the window's last month waits for results
        assert pi == (sample / frame if kind == "random" else None), plan_id
        assert delivered <= drawn <= (first or drawn), plan_id
    assert any(transit for *_, transit in plans)
