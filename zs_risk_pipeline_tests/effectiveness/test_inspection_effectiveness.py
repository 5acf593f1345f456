"""Effectiveness of the month's inspections (监管效能) on a small hand-built warehouse: problems per 100 by every
cut, the city rate from the city-wide random plans (Hájek) and the lift, against hand computations; plans in both
shapes (zs-risk's one row per tier stratum, a uniform draw's one row per plan); point in time; the blocking check
catching malformed rows; the Dagster asset and its publish as an internal mart table."""

from __future__ import annotations

import datetime as dt
import itertools
import math
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from zs_risk_pipeline.lib.core.sql import run_sql
from zs_risk_pipeline.lib.effectiveness import inspection_effectiveness as eff
from zs_risk_pipeline.lib.ingest import staging
from zs_risk_pipeline.lib.policy import versions
from zs_risk_pipeline.lib.publish import tables, wap
from zs_risk_pipeline_tests.conftest import materialize_on_copy, signed_home_env

MAR, APR, MAY = "2024-03", "2024-04", "2024-05"
FEB_1 = dt.date(2024, 2, 1)
_row = itertools.count(1)


def put(conn: duckdb.DuckDBPyConnection, table: str, delivered: str, **cols: object) -> None:
    """One staged row as ingest would leave it (lineage columns filled)."""
    cols |= {
        "_delivery_month": dt.date.fromisoformat(f"{delivered}-01"),
        "_source_file": "test",
        "_file_sha256": "test",
        "_row_number": next(_row),
    }
    conn.execute(
        f"INSERT INTO staging.{table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})", list(cols.values())
    )


def plan(conn, plan_id: str, name: str, frame: int, sample: int, kind: str = "random", delivered: str = MAR) -> None:
    pi = sample / frame if kind == "random" else None
    put(
        conn,
        "plans",
        delivered,
        plan_id=plan_id,
        plan_name=name,
        department="SCJGJ",
        kind=kind,
        drawn_on=dt.date.fromisoformat(f"{delivered}-01"),
        frame_size=frame,
        sample_size=sample,
        inclusion_probability=pi,
    )


def inspect(
    conn,
    uscc: str,
    plan_id: str | None,
    found: bool,
    on: str,
    delivered: str | None = None,
    trigger: str = "random",
    department: str | None = "SCJGJ",
) -> None:
    put(
        conn,
        "inspections",
        delivered or on[:7],
        task_id=f"T{next(_row)}",
        plan_id=plan_id,
        uscc=uscc,
        inspected_on=dt.date.fromisoformat(on),
        trigger=trigger,
        result_codes=["FOUND_RECTIFIED"] if found else ["NO_ISSUE"],
        problem_found=found,
        department=department,
    )


def tier(conn, uscc: str, t: str, month: dt.date = FEB_1) -> None:
    conn.execute(
        "INSERT INTO tiers.enterprise_monthly (month, uscc, model_version, model_kind, score, probability, points, "
        "tier_by_score, tier) VALUES (?, ?, 'test', 'scorecard', 0, 0.1, 0, ?, ?)",
        [month, uscc, t, t],
    )


def build_city(conn: duckdb.DuckDBPyConnection) -> None:
    """March 2024: the city-wide plan drawn by zs-risk in two tier strata (A: 4 of 100 drawn, one problem; D: 5 of
    10, three problems), a tier-stratified product plan, a uniform food plan, a special campaign and a triggered
    inspection; a late result and one of February stay out. April: the city-wide plan as one uniform draw (10 of
    50, four problems). May: no city-wide plan at all."""
    staging.prepare(conn)
    for source in ("inspections", "plans"):
        staging.stage(conn, source, MAR)  # nothing landed: the staging tables, empty
    run_sql(conn, "intermediate/tiers.enterprise_monthly.sql")
    plan(conn, "MR-GENERAL-2024-03/A", "企业公示信息双随机抽查", 100, 4)
    plan(conn, "MR-GENERAL-2024-03/D", "企业公示信息双随机抽查", 10, 5)
    plan(conn, "MR-PRODUCT-2024-03/C", "工业产品生产双随机抽查", 20, 2)
    plan(conn, "MR-PRODUCT-2024-03/D", "工业产品生产双随机抽查", 4, 2)
    plan(conn, "MR-FOOD-2024-03", "2024年3月食品经营双随机抽查", 50, 4)
    plan(conn, "SP-GAS-2024-03", "2024年3月燃气专项检查", 30, 1, kind="special")
    for i, found in enumerate([True, False, False, False]):
        tier(conn, f"GA{i}", "A")
        inspect(conn, f"GA{i}", "MR-GENERAL-2024-03/A", found, "2024-03-05")
    for i, found in enumerate([True, True, True, False, False]):
        tier(conn, f"GD{i}", "C" if i == 4 else "D")  # GD4's tier of February was restated after the draw: C
        inspect(conn, f"GD{i}", "MR-GENERAL-2024-03/D", found, "2024-03-12")
    for i, (t, found) in enumerate([("C", False), ("C", True), ("D", True), ("D", True)]):
        tier(conn, f"P{i}", t)
        inspect(conn, f"P{i}", f"MR-PRODUCT-2024-03/{t}", found, "2024-03-20")
    for uscc, t, found in [("F1", "B", True), ("F2", "C", True), ("F3", "A", False), ("F4", None, False)]:
        if t:
            tier(conn, uscc, t)
        inspect(conn, uscc, "MR-FOOD-2024-03", found, "2024-03-21")  # F4: no tier in February (a new firm)
    inspect(conn, "F5", "MR-FOOD-2024-03", True, "2024-03-29", delivered=APR)  # delivered after M's end
    inspect(conn, "F6", "MR-FOOD-2024-02", True, "2024-02-27", delivered=MAR)  # dated before M
    tier(conn, "S1", "D")
    inspect(conn, "S1", "SP-GAS-2024-03", True, "2024-03-14", trigger="special", department="YJGLJ")
    inspect(conn, "GD0", None, True, "2024-03-25", trigger="triggered", department=None)  # after a complaint
    # April: the synthetic city's uniform city-wide draw, π = 10 / 50.
    plan(conn, "MR-GENERAL-2024-04", "2024年4月企业公示信息双随机抽查", 50, 10, delivered=APR)
    for i, found in enumerate([1, 0, 1, 1, 0, 0, 0, 1, 0, 0]):
        inspect(conn, f"U{i}", "MR-GENERAL-2024-04", bool(found), "2024-04-10")
    # May: a food inspection only.
    plan(conn, "MR-FOOD-2024-05", "2024年5月食品经营双随机抽查", 50, 1, delivered=MAY)
    inspect(conn, "F1", "MR-FOOD-2024-05", False, "2024-05-08")


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[duckdb.DuckDBPyConnection, Path]]:
    path = tmp_path_factory.mktemp("effectiveness") / "warehouse.duckdb"
    conn = duckdb.connect(str(path))
    build_city(conn)
    for month in (MAR, APR, MAY):
        eff.build_inspection_effectiveness(conn, month)
    yield conn, path
    conn.close()


def rows(conn: duckdb.DuckDBPyConnection, month: str) -> pd.DataFrame:
    frame = conn.execute(
        "SELECT * FROM effectiveness.inspection_effectiveness WHERE month = $m",
        {"m": dt.date.fromisoformat(f"{month}-01")},
    ).df()
    return frame.set_index(["cut", "key"])


def counts(frame: pd.DataFrame, cut: str) -> dict[str, tuple[int, int]]:
    part = frame.loc[cut]
    return {
        k: (int(n), int(f)) for k, n, f in zip(part.index, part["inspections"], part["problems_found"], strict=True)
    }


def test_problems_per_100_by_every_cut_against_a_hand_count(city) -> None:
    conn, _ = city
    march = rows(conn, MAR)
    # 9 + 4 + 4 random, 1 special, 1 triggered: 19 inspections, 11 problems; the late and February ones left out.
    assert counts(march, "all") == {"all": (19, 11)}
    assert march.loc[("all", "all"), "per_100"] == pytest.approx(1100 / 19)
    assert march.loc[("all", "all"), "firms_found"] == 10  # GD0 was found twice: random, then triggered
    assert counts(march, "trigger") == {"random": (17, 9), "special": (1, 1), "triggered": (1, 1)}
    assert counts(march, "plan") == {
        "MR-FOOD-2024-03": (4, 2),
        "MR-GENERAL-2024-03": (9, 4),  # both strata under the plan's own id
        "MR-PRODUCT-2024-03": (4, 3),
        "SP-GAS-2024-03": (1, 1),
        "no plan": (1, 1),
    }
    assert march.loc[("plan", "MR-GENERAL-2024-03"), "plan_name"] == "企业公示信息双随机抽查"
    assert march.loc["plan", "targeted"].to_dict() == {
        "MR-FOOD-2024-03": False,
        "MR-GENERAL-2024-03": True,
        "MR-PRODUCT-2024-03": True,
        "SP-GAS-2024-03": False,
        "no plan": False,
    }
    assert counts(march, "department") == {"SCJGJ": (17, 9), "YJGLJ": (1, 1), "unknown": (1, 1)}
    # The tier when the plan was drawn: the stratum (GD4 counts as D, though February now says C), else February's.
    assert counts(march, "tier") == {"A": (5, 1), "B": (1, 1), "C": (3, 2), "D": (9, 7), "not tiered": (1, 0)}
    assert counts(march, "random_tier") == {"A": (5, 1), "B": (1, 1), "C": (3, 2), "D": (7, 5), "not tiered": (1, 0)}
    assert march.loc[("random_tier", "D"), "per_100"] == pytest.approx(500 / 7)
    assert counts(march, "targeted") == {"tier-stratified plans": (13, 7)}


def test_the_city_rate_the_lift_and_the_share_reached_against_a_hand_computation(city) -> None:
    conn, _ = city
    march = rows(conn, MAR)
    city_row = march.loc[("city", "city-wide plans")]
    # The strata of the city-wide plan: Σ 1/π = 4/0.04 + 5/0.5 = 110, Σ y/π = 1/0.04 + 3/0.5 = 31.
    assert (city_row["inspections"], city_row["problems_found"]) == (9, 4)
    assert city_row["rate"] == pytest.approx(31 / 110)
    # V̂ = (100² × 0.96 × 0.25/4 + 10² × 0.5 × 0.3/5) / 110² (test_estimates.py works it through).
    assert city_row["rate_se"] == pytest.approx(math.sqrt(603 / 12100))
    assert city_row["rate_low"] < 31 / 110 < city_row["rate_high"]
    assert (city_row["population"], city_row["strata"], city_row["single_draw_strata"]) == (110, 2, 0)
    # The city's tiers B and C have no city-wide inspection: the frame's rate, not post-stratified, and the row says so.
    assert city_row["note"] == (
        "the rate of the city-wide plans' frame, not post-stratified by tier (no city-wide inspection of tier B, C)"
    )
    # The tier-stratified plans found 7 in 13: 7/13 ÷ 31/110 = 770/403 times what 13 uniform draws would find.
    targeted = march.loc[("targeted", "tier-stratified plans")]
    assert targeted["lift"] == pytest.approx(770 / 403)
    assert targeted["lift_low"] == pytest.approx(7 / 13 / city_row["rate_high"])
    assert targeted["lift_high"] == pytest.approx(7 / 13 / city_row["rate_low"])
    assert march.loc[("plan", "MR-FOOD-2024-03"), "lift"] == pytest.approx(0.5 / (31 / 110))
    assert march.loc[("tier", "not tiered"), "lift"] == 0
    # 10 firms found with a problem of 31/110 × 110 = 31 estimated in the frame.
    everything = march.loc[("all", "all")]
    assert everything["share_reached"] == pytest.approx(10 / 31)
    assert everything["share_reached_low"] == pytest.approx(10 / (city_row["rate_high"] * 110))
    assert 10 / (city_row["rate_low"] * 110) > 1 and everything["share_reached_high"] == 1  # at most all of them
    # The city estimate only on its row, the share only on the all row.
    assert march.drop(index=("city", "city-wide plans"))["rate"].isna().all()
    assert march.drop(index=("all", "all"))["share_reached"].isna().all()
    assert set(march["policy_version"]) == {versions.current("effectiveness").version}


def test_months_pooled_estimate_the_city_rate_once_from_all_their_strata(city) -> None:
    """March's two tier strata and April's uniform draw: Σ 1/π = 100 + 10 + 50 = 160, Σ y/π = 25 + 6 + 20 = 51; the
    targeted plans (March only) found 7 in 13, so the pooled lift is 7/13 ÷ 51/160 = 1120/663."""
    conn, _ = city
    p = eff.pooled(conn, [MAR, APR])
    assert (p.inspections, p.problems_found) == (13, 7)
    assert p.city is not None and p.city.rate == pytest.approx(51 / 160) and p.city.strata == 3
    assert p.lift[0] == pytest.approx(1120 / 663)
    assert p.lift[1] == pytest.approx(7 / 13 / p.city.high) and p.lift[2] == pytest.approx(7 / 13 / p.city.low)
    alone = eff.pooled(conn, [MAR])
    assert alone.city is not None and alone.city.rate == pytest.approx(31 / 110)
    assert alone.lift[0] == pytest.approx(770 / 403)  # one month pooled is that month's row
    assert math.isnan(eff.pooled(conn, [MAY]).lift[0])  # no city-wide plan: no lift


def test_the_city_rate_is_post_stratified_to_the_citys_tiers_by_hand(tmp_path: Path) -> None:
    """June: the city-wide plan's frame of May left out 20 of the city's 120 A firms and 20 of its 30 D firms (drawn
    earlier in the year). A: 1 problem in 4 of a frame of 100; D: 3 in 5 of 10. The frame's rate 31/110 gives D the
    weight 10/110; the city's is W_A r_A + W_D r_D = 0.8 × 1/4 + 0.2 × 3/5 = 0.32, with
    V̂ = 0.8² × 0.96 × 0.25/4 + 0.2² × 0.5 × 0.3/5 = 0.0396."""
    jun, may = "2024-06", dt.date(2024, 5, 1)
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as conn:
        staging.prepare(conn)
        for source in ("inspections", "plans"):
            staging.stage(conn, source, jun)
        run_sql(conn, "intermediate/tiers.enterprise_monthly.sql")
        for t, size in (("A", 120), ("D", 30)):
            for i in range(size):
                tier(conn, f"J{t}{i}", t, may)
        plan(conn, "MR-GENERAL-2024-06/A", "企业公示信息双随机抽查", 100, 4, delivered=jun)
        plan(conn, "MR-GENERAL-2024-06/D", "企业公示信息双随机抽查", 10, 5, delivered=jun)
        for t, results in (("A", [True, False, False, False]), ("D", [True, True, True, False, False])):
            for i, found in enumerate(results):
                inspect(conn, f"J{t}{i}", f"MR-GENERAL-2024-06/{t}", found, "2024-06-11")
        eff.build_inspection_effectiveness(conn, jun)
        june = rows(conn, jun)
        pooled = eff.pooled(conn, [jun])
    city_row = june.loc[("city", "city-wide plans")]
    assert city_row["rate"] == pytest.approx(0.32)
    assert city_row["rate_se"] == pytest.approx(math.sqrt(0.0396))
    assert city_row["rate_low"] < 0.32 < city_row["rate_high"]
    assert (city_row["population"], city_row["strata"]) == (150, 2)
    assert city_row["note"] == eff.POST_STRATIFIED
    # The plan is city-wide and tier-stratified: 4 problems in 9 inspections, 4/9 ÷ 0.32 times a uniform draw's.
    assert june.loc[("targeted", "tier-stratified plans"), "lift"] == pytest.approx(4 / 9 / 0.32)
    assert june.loc[("all", "all"), "share_reached"] == pytest.approx(4 / (0.32 * 150))
    assert pooled.city is not None and pooled.city.rate == pytest.approx(0.32)


def test_a_uniform_city_wide_draw_is_one_stratum(city) -> None:
    conn, _ = city
    april = rows(conn, APR).loc[("city", "city-wide plans")]
    # p̂ = 4/10; V̂ = (1 − 10/50) × s²/n with s² = 10 × 0.4 × 0.6 / 9.
    assert april["rate"] == pytest.approx(0.4)
    assert april["rate_se"] == pytest.approx(math.sqrt(0.8 * (10 * 0.4 * 0.6 / 9) / 10))
    assert (april["population"], april["strata"]) == (50, 1)
    # The hand city has no tiers of March: the frame's rate.
    assert april["note"] == "the rate of the city-wide plans' frame (no tiers of the month before to post-stratify to)"
    assert april["lift"] == pytest.approx(1.0)  # a uniform draw finds what the city rate says
    assert rows(conn, APR).loc[("targeted", "tier-stratified plans"), "note"] == "no inspection"


def test_a_month_without_a_city_wide_random_plan_says_so_and_invents_nothing(city) -> None:
    conn, _ = city
    may = rows(conn, MAY)
    city_row = may.loc[("city", "city-wide plans")]
    assert city_row["inspections"] == 0 and pd.isna(city_row["rate"]) and pd.isna(city_row["population"])
    assert "no random inspection of a city-wide plan (MR-GENERAL) dated in 2024-05" in city_row["note"]
    assert may["lift"].isna().all() and may["share_reached"].isna().all()
    assert may.loc[("plan", "MR-FOOD-2024-05"), "note"] == city_row["note"]
    assert counts(may, "all") == {"all": (1, 0)}
    assert eff.well_formed_violations(conn, MAY) == []


def test_a_rerun_replaces_the_month_with_the_same_rows(city) -> None:
    conn, _ = city

    def stored() -> list[tuple]:
        return conn.execute("SELECT * FROM effectiveness.inspection_effectiveness ORDER BY ALL").fetchall()

    before = stored()
    eff.build_inspection_effectiveness(conn, MAR)
    assert stored() == before
    assert not conn.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = '_eff_inspections'").fetchone()[0]


def test_the_check_passes_the_months_built_and_catches_malformed_rows(city) -> None:
    conn, _ = city
    assert [eff.well_formed_violations(conn, m) for m in (MAR, APR, MAY)] == [[], [], []]
    conn.execute("CREATE TEMP TABLE _kept AS SELECT * FROM effectiveness.inspection_effectiveness")
    try:
        conn.execute(
            "UPDATE effectiveness.inspection_effectiveness SET problems_found = 9 "
            "WHERE cut = 'plan' AND key = 'SP-GAS-2024-03'"
        )
        conn.execute("UPDATE effectiveness.inspection_effectiveness SET rate_low = 0.5 WHERE cut = 'city'")
        conn.execute("DELETE FROM effectiveness.inspection_effectiveness WHERE cut = 'tier' AND key = 'B'")
        conn.execute(
            "UPDATE effectiveness.inspection_effectiveness SET per_100 = 50 WHERE cut = 'trigger' AND key = 'special'"
        )
        problems = {(c, k, p.split(":")[0].split(",")[0]) for c, k, p in eff.well_formed_violations(conn, MAR)}
        assert ("plan", "SP-GAS-2024-03", "more problems than inspections") in problems
        assert ("plan", "SP-GAS-2024-03", "per_100 is not 100 × problems_found / inspections") in problems
        assert ("city", "city-wide plans", "rate outside its interval") in problems
        assert ("trigger", "special", "per_100 is not 100 × problems_found / inspections") in problems
        assert ("tier", None, "18 inspections and 10 problems") in problems
        assert any(c == "plan" and k is None for c, k, _ in problems)  # the plans no longer add up
        conn.execute("DELETE FROM effectiveness.inspection_effectiveness WHERE cut = 'city'")
        assert ("city", None, "no city row") in {(c, k, p) for c, k, p in eff.well_formed_violations(conn, MAR)}
        # A result staged for the month but missing from the table: counted independently.
        conn.execute("DELETE FROM effectiveness.inspection_effectiveness")
        conn.execute("INSERT INTO effectiveness.inspection_effectiveness SELECT * FROM _kept")
        inspect(conn, "X1", None, False, "2024-03-30", trigger="triggered", delivered=MAR)
        staged = [p for c, _, p in eff.well_formed_violations(conn, MAR) if c == "all"]
        assert staged == ["19 inspections and 11 problems, but 20 and 11 were staged for the month"]
    finally:
        conn.execute("DELETE FROM staging.inspections WHERE uscc = 'X1'")
        conn.execute("DELETE FROM effectiveness.inspection_effectiveness")
        conn.execute("INSERT INTO effectiveness.inspection_effectiveness SELECT * FROM _kept")
        conn.execute("DROP TABLE _kept")


def test_summary_lines_give_one_line_a_month(city) -> None:
    conn, _ = city
    lines = eff.summary_lines(conn)
    assert len(lines) == 4 and "监管效能" in lines[0]
    march = lines[1]
    assert march.startswith("  2024-03:") and "19 inspections" in march and "11 problems (57.9 per 100)" in march
    assert "by tier A 20.0 B 100.0 C 66.7 D 71.4" in march and "city 28.2% [" in march
    assert "lift 1.91×" in march and "reached 32.3%" in march
    assert "city n/a" in lines[3] and "lift n/a" in lines[3]
    with duckdb.connect() as fresh:
        assert eff.summary_lines(fresh) == []


def test_the_summary_pools_the_months_whose_plans_a_model_drew(city, tmp_path: Path) -> None:
    conn, path = city
    conn.execute("CHECKPOINT")
    copy = tmp_path / "warehouse.duckdb"
    shutil.copyfile(path, copy)
    with duckdb.connect(str(copy)) as other:
        other.execute("UPDATE tiers.enterprise_monthly SET model_kind = 'lightgbm' WHERE month = ?", [FEB_1])
        lines = eff.summary_lines(other)
    # The tiers of February drew March's plans: March alone is model-served (April's tiers of March are not).
    assert lines[-1].startswith("  the months whose plans a trained model drew (2024-03 … 2024-03), pooled: ")
    assert "found 7 problems in 13 random inspections (53.8%)" in lines[-1] and "lift 1.91× [" in lines[-1]


def test_asset_materialises_and_its_check_lets_the_month_publish(city, tmp_path: Path) -> None:
    from zs_risk_pipeline.defs.effectiveness import inspection_effectiveness as defs

    conn, path = city
    result, copy = materialize_on_copy(
        conn, path, tmp_path, [defs.inspection_effectiveness, defs.inspection_effectiveness_well_formed], "2024-03-01"
    )
    assert result.success
    [check] = result.get_asset_check_evaluations()
    assert check.passed and check.check_name == "inspection_effectiveness_well_formed"
    md = result.get_asset_materialization_events()[0].materialization.metadata
    assert md["city_rate"].value == pytest.approx(31 / 110)
    assert md["city_rate_low"].value < md["city_rate"].value < md["city_rate_high"].value
    assert md["targeted_lift"].value == pytest.approx(770 / 403)
    assert md["share_reached"].value == pytest.approx(10 / 31)
    assert md["per_100_random_D"].value == pytest.approx(500 / 7)
    assert md["inspections"].value == 19 and md["problems_found"].value == 11
    assert re.search(r"\| city +\| city-wide plans +\| +9 \| +4 \|", md["preview"].value)
    assert md["city_rate_estimate"].value.startswith("28.2% [")
    with duckdb.connect(str(copy)) as wh:
        spec = tables.MART_TABLES["inspection_effectiveness"]
        assert md["dagster/partition_row_count"].value == len(rows(wh, MAR))
        published = wap.publish_month(wh, spec, MAR, tmp_path / "mart")  # the recorded verdict is what it needs
        assert published.rows == len(rows(wh, MAR))
    assert "internal" in spec.description and "内部" in spec.description


@pytest.mark.e2e  # whole months through Dagster (make test runs them; -m "not e2e" skips)
def test_a_small_city_publishes_its_effectiveness_as_an_internal_mart_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from zs_risk_pipeline import cli
    from zs_risk_pipeline.definitions import build_defs
    from zs_risk_pipeline.defs.effectiveness.inspection_effectiveness import INSPECTION_EFFECTIVENESS
    from zs_risk_pipeline.lib.core import settings

    home = tmp_path / "home"
    signed_home_env(monkeypatch, home)
    months = ["2023-01", "2023-02", "2023-03"]
    assert cli.main(["synth", "--enterprises", "1500", "--months", "3", "--start", months[0], "--seed", "7"]) == 0
    assert cli.main(["backfill", "--from", months[0], "--to", months[-1]]) == 0
    paths = settings.home()
    with duckdb.connect(str(paths.warehouse), read_only=True) as wh:
        staged = dict(
            wh.execute(
                "SELECT strftime(inspected_on, '%Y-%m') || ' ' || trigger, count(*) FROM staging.inspections "
                "WHERE _delivery_month <= date_trunc('month', inspected_on) GROUP BY ALL"
            ).fetchall()
        )
        # The synthetic city's uniform MR-GENERAL draws: one stratum, so the Hájek rate is the sample's own rate.
        city = wh.execute(
            "SELECT strftime(month, '%Y-%m'), inspections, problems_found, rate, strata, lift, note "
            "FROM effectiveness.inspection_effectiveness WHERE cut = 'city' ORDER BY month"
        ).fetchall()
        warehouse_rows = wh.execute("SELECT count(*) FROM effectiveness.inspection_effectiveness").fetchone()[0]
    assert [m for m, *_ in city] == months
    for month, n, found, rate, strata, lift, note in city:
        assert n > 0 and strata == 1 and rate == pytest.approx(found / n), month
        # a uniform draw finds what the city rate says; a rate estimated 0 (a small city) has no lift, and says so
        assert lift == pytest.approx(1.0) if found else (lift is None and "estimated 0" in note), month
    with duckdb.connect(str(paths.mart / tables.MART_FILE), read_only=True) as mart:
        published = mart.execute(
            "SELECT strftime(month, '%Y-%m') || ' ' || key, inspections FROM inspection_effectiveness "
            "WHERE cut = 'trigger'"
        ).fetchall()
        assert mart.execute("SELECT count(*) FROM inspection_effectiveness").fetchone()[0] == warehouse_rows
        [(comment,)] = mart.execute(
            "SELECT comment FROM duckdb_views() WHERE view_name = 'inspection_effectiveness'"
        ).fetchall()
    # Every month's inspections by trigger, as staged: dated in the month and delivered by its end.
    assert dict(published) == staged
    assert "internal" in comment and "内部参考" in comment
    spec = build_defs().resolve_assets_def(INSPECTION_EFFECTIVENESS).specs_by_key[INSPECTION_EFFECTIVENESS]
    assert spec.tags["confidentiality"] == "internal"
    public = [p for p in (paths.exports / "publicity").rglob("*") if p.is_file()]
    assert public and not any("effectiveness" in p.name for p in public)
