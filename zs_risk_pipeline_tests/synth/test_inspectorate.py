"""The simulated inspectorate: a known published plan carried out against the city's hidden truth, with the
realism a bureau sees (working days, unstaffed and unfinished tasks, late results, firms gone or unreachable,
the trigger queue), delivered in the landing contract's shape. Also the city's own plans stopping at go-live."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

import zs_risk_synth as synth
from zs_risk_pipeline.lib.core import workdays
from zs_risk_pipeline.lib.ingest import landing as landing_files
from zs_risk_pipeline.lib.ingest.contract import sources
from zs_risk_pipeline_tests.conftest import policy_file
from zs_risk_synth import inspectorate, world_truth

MONTH = "2023-06"  # the plan month carried out
HANDED_OVER = ("MR-GENERAL", "MR-FOOD")


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("city")
    synth.generate(
        root / "landing",
        root / "truth",
        enterprises=4000,
        months=8,
        start="2023-01",
        seed=5,
        go_live=MONTH,
        handed_over=HANDED_OVER,
    )
    return root


def _plan(root: Path, world: world_truth.WorldTruth) -> pd.DataFrame:
    """A published MR-GENERAL plan of MONTH as lib/sampling/package.py writes it: operating firms of the city,
    half of them the riskiest (stratum D), half the safest (stratum A); one task unstaffed, one inspector amended."""
    alive = np.flatnonzero((world.exit_day > 10**5) & ~world.dormant & (world.est_day < 19_000))
    order = alive[np.argsort(world.p_problem[alive], kind="stable")]
    low, high = order[:600], order[-600:]
    sel = pd.DataFrame(
        {"uscc": np.concatenate([world.uscc[high], world.uscc[low]]), "stratum": ["D"] * 600 + ["A"] * 600}
    )
    folder = root / "plans" / f"MR-GENERAL-{MONTH}"
    folder.mkdir(parents=True)
    sel.assign(u="0.5").to_csv(folder / "selection.csv", index=False)
    staff = sel[["uscc"]].assign(inspector_1="SCJGJ0001", inspector_2="SCJGJ0002", unassigned_reason="")
    staff.loc[5, ["inspector_1", "inspector_2", "unassigned_reason"]] = ["", "", "no_qualified_pair"]
    staff.to_csv(folder / "assignments.csv", index=False)
    pd.DataFrame(
        [
            {
                "uscc": sel["uscc"][7],
                "replaced": "SCJGJ0002",
                "replacement": "SCJGJ0003",
                "reason": "conflict",
                "amended_in": "2023-05",
                "round": 1,
            }
        ]
    ).to_csv(folder / "amendments.csv", index=False)
    strata = {"A": {"N": 2400, "n": 600, "rate": "0.25"}, "D": {"N": 900, "n": 600, "rate": "0.666667"}}
    meta = {"plan_id": f"MR-GENERAL-{MONTH}", "month": MONTH, "strata": strata}
    (folder / "plan.json").write_text(json.dumps(meta), encoding="utf-8")
    return sel


def _carry(root: Path, last_month: str, warehouse: Path | None = None) -> inspectorate.Carried:
    return inspectorate.carry_out(
        root / "plans",
        root / "landing",
        root / "truth",
        MONTH,
        last_month=last_month,
        warehouse=warehouse,
        config=policy_file("sampling_plans.yaml"),
    )


def _results(landing: Path) -> pd.DataFrame:
    files = sorted(landing.glob("inspections/*/*_platform.csv"))
    return pd.concat(
        [pd.read_csv(f, dtype=str, keep_default_na=False).assign(_folder=f.parent.name) for f in files],
        ignore_index=True,
    )


@pytest.fixture(scope="module")
def carried(city: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame, inspectorate.Carried]:
    root = tmp_path_factory.mktemp("carried")
    for part in ("landing", "truth"):
        shutil.copytree(city / part, root / part)
    sel = _plan(root, world_truth.read(root / "truth"))
    return root, sel, _carry(root, last_month="2023-08")


def test_the_city_stops_drawing_the_handed_over_plans_at_go_live(city: Path) -> None:
    plans = pd.concat(
        [pd.read_csv(f, dtype=str).assign(_month=f.parent.name) for f in sorted(city.glob("landing/plans/*/*.csv"))]
    )
    prefix = plans["plan_id"].str.replace(r"-\d{4}-\d{2}$", "", regex=True)
    handed = prefix.isin(HANDED_OVER)
    assert set(plans.loc[handed, "_month"]) == {f"2023-0{m}" for m in range(1, 6)}  # drawn only before MONTH
    assert (plans.loc[~handed, "_month"] >= MONTH).any()  # the other plans go on


def test_every_staffed_task_has_one_result_with_the_plan_strata_and_inspectors(carried) -> None:
    root, sel, c = carried
    res = _results(root / "landing")
    plan = res[res["trigger"] == "random"]
    record = pd.read_csv(root / "truth" / "inspectorate" / f"{MONTH}.csv", dtype=str, keep_default_na=False)
    not_done = record[record["status"] != "carried_out"]
    assert c.tasks == 1200
    assert c.not_carried_out["unstaffed"] == 1
    assert sel["uscc"][5] in set(not_done.loc[not_done["status"] == "unstaffed", "uscc"])
    assert (not_done["reason_zh"] != "").all()  # every task not carried out says why
    assert 0 < c.not_carried_out["not_completed"] < 0.06 * 1200
    # Delivered within the window (last month 2023-08) and not carried out make up the plan exactly.
    assert len(plan) + c.in_transit + len(not_done) == 1200 and c.in_transit == 0
    assert plan["uscc"].is_unique and set(plan["uscc"]) <= set(sel["uscc"])
    assert not set(plan["uscc"]) & set(not_done["uscc"])
    strata = dict(zip(sel["uscc"], sel["stratum"], strict=True))
    assert (plan["plan_id"] == f"MR-GENERAL-{MONTH}/" + plan["uscc"].map(strata)).all()
    # The task number names the plan, never the stratum (a stratum is a tier).
    assert plan["task_id"].str.fullmatch(rf"MR-GENERAL-{MONTH}-\d{{5}}").all() and plan["task_id"].is_unique
    amended = plan[plan["uscc"] == sel["uscc"][7]]
    assert amended["inspector_ids"].tolist() == ["SCJGJ0001;SCJGJ0003"]
    assert (plan.loc[plan["uscc"] != sel["uscc"][7], "inspector_ids"] == "SCJGJ0001;SCJGJ0002").all()


def test_inspections_fall_on_working_days_and_some_results_come_a_month_late(carried) -> None:
    root, _, c = carried
    res = _results(root / "landing")
    days = pd.to_datetime(res["inspected_on"]).dt.date
    assert (days.map(lambda d: d.strftime("%Y-%m")) == MONTH).all()
    calendar = workdays.Calendar()
    assert all(workdays.is_workday(d, calendar) for d in set(days))
    recorded = pd.to_datetime(res["recorded_on"]).dt.date
    assert (recorded > days).all()
    assert (res["_folder"] == recorded.map(lambda d: d.strftime("%Y-%m"))).all()  # delivered when entered
    assert (res["_folder"] > MONTH).sum() == c.late > 0.04 * len(res)
    # A member unit's results entered weeks after the inspection: delivered a month late.
    assert ((pd.to_datetime(res["recorded_on"]) - pd.to_datetime(res["inspected_on"])).dt.days > 20).sum() > 0


def test_a_results_file_after_the_window_stays_in_transit(city: Path, tmp_path: Path) -> None:
    for part in ("landing", "truth"):
        shutil.copytree(city / part, tmp_path / part)
    _plan(tmp_path, world_truth.read(tmp_path / "truth"))
    c = _carry(tmp_path, last_month=MONTH)
    res = _results(tmp_path / "landing")
    assert set(res["_folder"]) == {MONTH} and c.in_transit > 0
    assert len(res) + c.in_transit == c.carried_out + c.triggered


def test_outcomes_follow_the_hidden_truth(carried) -> None:
    root, _, _ = carried
    res = _results(root / "landing")
    problem = ~res["result_codes"].str.fullmatch(r"(NO_ISSUE|NO_RELEVANT_ACTIVITY|CLOSED_OR_EXITED)")
    stratum = res["plan_id"].str[-1]
    rate = problem.groupby(stratum).mean()
    world = world_truth.read(root / "truth")
    rows = world.rows(res["uscc"].to_numpy(dtype=str))
    expected = pd.Series(world.p_problem[rows]).groupby(stratum.to_numpy()).mean()
    assert rate["D"] > 3 * rate["A"]
    # The publicity plan finds at least the hidden rate (a missing annual report is found for sure).
    assert rate["D"] >= expected["D"] - 0.06 and rate["A"] >= expected["A"] - 0.03


def test_firms_gone_before_the_inspection_are_found_closed(city: Path, tmp_path: Path) -> None:
    for part in ("landing", "truth"):
        shutil.copytree(city / part, tmp_path / part)
    world = world_truth.read(tmp_path / "truth")
    gone = np.flatnonzero(world.exit_day < 19_480)[:30]  # left the register before June 2023
    folder = tmp_path / "plans" / f"MR-GENERAL-{MONTH}"
    folder.mkdir(parents=True)
    sel = pd.DataFrame({"uscc": world.uscc[gone], "stratum": "B", "u": "0.1"})
    sel.to_csv(folder / "selection.csv", index=False)
    sel[["uscc"]].assign(inspector_1="SCJGJ0001", inspector_2="SCJGJ0002", unassigned_reason="").to_csv(
        folder / "assignments.csv", index=False
    )
    meta = {"plan_id": f"MR-GENERAL-{MONTH}", "month": MONTH, "strata": {"B": {"N": 900, "n": 30}}}
    (folder / "plan.json").write_text(json.dumps(meta), encoding="utf-8")
    _carry(tmp_path, last_month="2023-08")
    res = _results(tmp_path / "landing")
    assert len(res) > 20 and (res["result_codes"] == "CLOSED_OR_EXITED").all()


def test_the_plans_delivery_has_one_row_per_stratum_with_its_inclusion_probability(carried) -> None:
    root, _, _ = carried
    plans = pd.read_csv(root / "landing" / "plans" / MONTH / "plans_202306_platform.csv", dtype=str)
    assert plans["plan_id"].tolist() == [f"MR-GENERAL-{MONTH}/A", f"MR-GENERAL-{MONTH}/D"]
    assert plans["inclusion_probability"].astype(float).tolist() == [600 / 2400, 600 / 900]
    assert (plans["plan_name"] == "2023年6月企业公示信息双随机抽查").all()  # the plan's name: no stratum in it
    assert plans["drawn_on"].unique().tolist() == ["2023-06-01"]


def test_the_deliveries_read_cleanly_under_the_landing_contract(carried) -> None:
    root, _, _ = carried
    contract = sources()
    for source in ("plans", "inspections"):
        for f in landing_files.list_files(root / "landing", source, "2023-07" if source == "inspections" else MONTH):
            if not f.path.name.endswith("_platform.csv"):
                continue
            read = landing_files.read_file(f, contract[source])  # a file the contract refuses raises
            assert read.table.num_rows == len(pd.read_csv(f.path, dtype=str)) > 0, f.relative
            assert set(read.table.column_names) >= {c.name for c in contract[source].columns}


def test_the_trigger_queue_is_carried_out_as_triggered_inspections(city: Path, tmp_path: Path) -> None:
    for part in ("landing", "truth"):
        shutil.copytree(city / part, tmp_path / part)
    world = world_truth.read(tmp_path / "truth")
    alive = np.flatnonzero((world.exit_day > 10**5) & ~world.dormant)[:40]
    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as conn:
        conn.execute("CREATE SCHEMA sampling")
        conn.execute(
            "CREATE TABLE sampling.trigger_queue (month DATE, uscc VARCHAR, tier VARCHAR, trigger_type VARCHAR)"
        )
        rows = [("2023-05-01", u, "B", "early_warning") for u in world.uscc[alive[:30]]]
        rows += [("2023-05-01", u, "A", "complaint") for u in world.uscc[alive[30:]]]  # the city's complaint checks
        rows += [("2023-04-01", world.uscc[alive[0]], "B", "early_warning")]  # another month's queue
        conn.executemany("INSERT INTO sampling.trigger_queue VALUES (?, ?, ?, ?)", rows)
    (tmp_path / "plans").mkdir()
    c = _carry(tmp_path, last_month="2023-08", warehouse=warehouse)
    res = _results(tmp_path / "landing")
    assert c.queued == 30 and 15 <= c.triggered <= 30 and c.tasks == 0
    assert len(res) == c.triggered and (res["trigger"] == "triggered").all() and (res["plan_id"] == "").all()
    assert set(res["uscc"]) <= set(world.uscc[alive[:30]])
    assert res["task_id"].str.fullmatch(r"TQ-202306-\d{5}").all()
    assert (res["inspector_ids"].str.count(";") == 1).all()


def test_the_same_home_and_month_give_the_same_files(city: Path, tmp_path: Path) -> None:
    digests = []
    for run in ("a", "b"):
        root = tmp_path / run
        for part in ("landing", "truth"):
            shutil.copytree(city / part, root / part)
        _plan(root, world_truth.read(root / "truth"))
        _carry(root, last_month="2023-08")
        digests.append(
            {
                p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted(root.glob("landing/**/*_platform.csv"))
            }
        )
    assert digests[0] == digests[1] and len(digests[0]) > 3


def test_risk_moves_at_hidden_moments(city: Path) -> None:
    world = world_truth.read(city / "truth")
    moved = world.turn_day < 10**5
    assert 0.02 < moved.mean() < 0.08  # ~6 % a year over 8 months
    worse = moved & (world.p_after > world.p_problem)
    assert worse.sum() > (moved & (world.p_after < world.p_problem)).sum() > 0
    rows = np.flatnonzero(worse)
    before = world.p_problem_at(rows, world.turn_day[rows] - 1)
    after = world.p_problem_at(rows, world.turn_day[rows])
    assert (after > before).all()
    first = dt.date(1970, 1, 1) + dt.timedelta(days=int(world.turn_day[moved].min()))
    assert first >= dt.date(2023, 1, 1)
