"""End to end, closed loop (闭环): the plans zs-risk publishes for M+1 are carried out by the simulated inspectorate
after M is built, and their results come back the way any delivery does: the stratum sub-plans with π from the
published package, the results with their stratum's plan, labels weighted by zs-risk's own 1/π, and a one-public
file that names the plan only."""

from __future__ import annotations

import json

import duckdb
import pandas as pd
import pytest

import zs_risk_synth as synth
from zs_risk_pipeline import cli
from zs_risk_pipeline.cli import city, common, run
from zs_risk_pipeline.lib.model import labels, model_config
from zs_risk_pipeline.lib.publicity import export_files

pytestmark = pytest.mark.e2e  # whole months through Dagster (make test runs them; -m "not e2e" skips)

MONTHS = ["2023-01", "2023-02", "2023-03"]
GO_LIVE = "2023-03"


def test_published_plans_are_carried_out_and_their_results_come_back(home, capsys) -> None:
    handed_over = city._configured_prefixes()
    synth.generate(
        home.landing,
        home.ground_truth,
        enterprises=5000,
        months=4,
        start=MONTHS[0],
        seed=11,
        go_live=GO_LIVE,
        handed_over=handed_over,
    )
    common._use_home(None)
    said: list[str] = []

    def after(month: str) -> None:
        if month == "2023-02":
            said.append(city.carry_out(home, GO_LIVE, last_month="2023-04"))

    assert run.run_months(MONTHS, after_month=after)
    assert said and said[0].startswith(f"carried out {GO_LIVE}: ")

    packages = {}
    for plan_json in home.plans.glob("*/plan.json"):
        meta = json.loads(plan_json.read_text(encoding="utf-8"))
        if meta["month"] == GO_LIVE:
            packages[meta["plan_id"]] = meta["strata"]
    assert packages
    with duckdb.connect(str(home.warehouse), read_only=True) as conn:
        plans = conn.execute(
            "SELECT plan_id, frame_size, sample_size, inclusion_probability FROM staging.plans "
            "WHERE _delivery_month = ?::DATE",
            [f"{GO_LIVE}-01"],
        ).df()
        results = conn.execute(
            "SELECT plan_id, task_id, trigger FROM staging.inspections WHERE inspected_on >= ?::DATE",
            [f"{GO_LIVE}-01"],
        ).df()
        funnel = labels.label_funnel(conn, GO_LIVE, model_config.load_config())
        known = labels.load_labels(conn, GO_LIVE, model_config.load_config())
    # The city drew none of the handed-over plans itself from go-live on.
    own = plans[~plans["plan_id"].str.contains("/")]
    assert not own["plan_id"].str.replace(r"-\d{4}-\d{2}$", "", regex=True).isin(handed_over).any()
    # One sub-plan per stratum of every published plan, with the package's N and n and π = n / N.
    strata = plans[plans["plan_id"].str.contains("/")].set_index("plan_id")
    expected = {f"{p}/{t}": s for p, ss in packages.items() for t, s in ss.items() if int(s["n"]) > 0}
    assert set(strata.index) == set(expected)
    for plan_id, s in expected.items():
        row = strata.loc[plan_id]
        assert (row["frame_size"], row["sample_size"]) == (int(s["N"]), int(s["n"]))
        assert row["inclusion_probability"] == pytest.approx(int(s["n"]) / int(s["N"]), rel=1e-12)
    # Their results came back with the stratum's plan, and become labels weighted by zs-risk's own 1/π.
    mine = results[results["plan_id"].fillna("").str.contains("/")]
    assert len(mine) > 0 and (mine["trigger"] == "random").all()
    assert set(mine["plan_id"]) <= set(expected)
    ours = known[known["plan_id"].str.contains("/")]
    assert len(ours) > 0 and funnel["labels"] >= len(ours)
    w = ours["plan_id"].map(lambda p: int(expected[p]["N"]) / int(expected[p]["n"]))
    assert ours["weight"].to_numpy() == pytest.approx(w.to_numpy(), rel=1e-9)
    # The one-public file of the month names the plans, never a stratum.
    public = export_files.file_paths(home.exports, GO_LIVE)["utf8"]
    table = pd.read_csv(public, dtype=str, encoding="utf-8-sig", keep_default_na=False)
    assert len(table) > 0 and not table["抽查计划编号"].str.contains("/").any()
    assert set(table["抽查计划编号"]) >= {p for p in packages if any(m.startswith(p + "/") for m in mine["plan_id"])}
    # The command carries out the next month's plans (drawn from the tiers of 2023-03) the same way.
    capsys.readouterr()
    assert cli.main(["carry-out", "--month", "2023-04"]) == 0
    assert capsys.readouterr().out.startswith("carried out 2023-04: ")
    assert any((home.landing / "plans" / "2023-04").glob("*_platform.csv"))
