"""End to end (抽查结果回流): inspection results delivered late for an old month reach the sensor, whose runs
restate that month's features and the later months' tiers as new published versions, while every published
double-random plan stays byte for byte what it was."""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd
import pytest

import zs_risk_synth as synth
from zs_risk_pipeline.cli import city, common, run
from zs_risk_pipeline.lib.core import digest
from zs_risk_pipeline.lib.publish import verify
from zs_risk_pipeline.lib.sampling import amendments
from zs_risk_synth import late

pytestmark = pytest.mark.e2e  # whole months through Dagster (make test runs them; -m "not e2e" skips)


MONTHS = ["2023-01", "2023-02", "2023-03", "2023-04"]
LATE = "2023-03"  # the month whose results partly arrive late: one plan's results, a problem found among them
DELIVERED_ON = dt.date(2023, 5, 4)  # after the last month (1-3 May is the Labour Day holiday)


def _plan_with_a_problem(landing) -> str:
    """The first random plan of LATE (by id) whose results delivered in LATE include a problem found: held back,
    they must change what the month's features count."""
    results = pd.concat(
        [
            pd.read_csv(f, dtype=str, keep_default_na=False)
            for f in sorted((landing / "inspections" / LATE).glob("*.csv"))
        ]
    )
    clean = results["result_codes"].str.fullmatch("NO_ISSUE|NO_RELEVANT_ACTIVITY|CLOSED_OR_EXITED")
    mine = results[results["plan_id"].str.endswith(LATE) & (results["trigger"] == "random") & ~clean]
    return sorted(mine["plan_id"])[0]


def _table(home, sql: str) -> list[tuple]:
    with duckdb.connect(str(home.warehouse), read_only=True) as conn:
        return conn.execute(sql).fetchall()


def test_late_results_rerun_the_affected_months_and_leave_the_plans_alone(home, capsys) -> None:
    synth.generate(home.landing, home.ground_truth, enterprises=5000, months=len(MONTHS), start=MONTHS[0], seed=11)
    held = late.hold_back(home.landing, home.home / "held", LATE, _plan_with_a_problem(home.landing), DELIVERED_ON)
    common._use_home(None)  # the Dagster instance of this home, as `zs-risk demo` uses it
    assert run.run_months(MONTHS)
    plans_before = digest.sha256_tree(home.plans)
    lists_before = digest.sha256_tree(home.exports / "task_lists")
    plan_rows_before = _table(home, "SELECT * FROM sampling.plan ORDER BY ALL")
    features_before = _table(
        home, f"SELECT uscc, inspections_problem_36m FROM features.enterprise_monthly WHERE month = '{LATE}-01'"
    )
    tiers_before = _table(home, "SELECT month, uscc, points, tier FROM tiers.enterprise_monthly ORDER BY ALL")
    assert plans_before and lists_before
    # Published on arrival, weekly: no result of any month is late by zs-risk's own schedule.
    assert _table(home, "SELECT count(*) FILTER (WHERE late) FROM publicity.inspection_results") == [(0,)]

    # The late results are delivered into their month's folder; the sensor (ticked as the daemon would) asks for
    # that month and the later months already built, and the demo's reruns run exactly those.
    assert city.late_delivery(home, held)
    out = capsys.readouterr().out
    assert f"the sensor requests 2 runs: {LATE}, 2023-04" in out
    assert f"[rerun 1/2] {LATE}: ok" in out and "[rerun 2/2] 2023-04: ok" in out
    assert f"enterprise_features {LATE} v2" in out and f"enterprise_tiers {LATE} v2" in out

    # The month's features now see the late problems found.
    features_after = _table(
        home, f"SELECT uscc, inspections_problem_36m FROM features.enterprise_monthly WHERE month = '{LATE}-01'"
    )
    assert sum(n for _, n in features_after) > sum(n for _, n in features_before)
    # Later tiers changed; the changed months were re-published as a new version, the first one kept.
    tiers_after = _table(home, "SELECT month, uscc, points, tier FROM tiers.enterprise_monthly ORDER BY ALL")
    assert [r[:2] for r in tiers_after] == [r[:2] for r in tiers_before]  # the same enterprises, restated
    pairs = zip(tiers_after, tiers_before, strict=True)
    changed = {after[0].isoformat()[:7] for after, before in pairs if after != before}
    assert min(changed) == LATE and max(changed) > LATE  # that month's tiers and the later ones
    versions = _table(
        home,
        "SELECT mart_table, strftime(month, '%Y-%m'), max(version) FROM audit.publish_log GROUP BY ALL ORDER BY ALL",
    )
    assert ("enterprise_features", LATE, 2) in versions
    assert ("enterprise_tiers", LATE, 2) in versions
    assert any(t == "enterprise_tiers" and m > LATE and v == 2 for t, m, v in versions)
    assert all(v == 1 for _, m, v in versions if m < LATE)  # earlier months untouched
    with duckdb.connect(str(home.warehouse), read_only=True) as conn:
        assert verify.verify(conn, home.mart) == []  # superseded versions still verify
    # The late file became one more batch of its month; only its results are late, each delivered late.
    held_rows = sum(1 for _ in held.open(encoding="utf-8")) - 1
    late_rows = _table(
        home,
        "SELECT strftime(month, '%Y-%m'), count(*), min(recorded_on), min(published_on), "
        "bool_and(deadline < recorded_on) FROM publicity.inspection_results WHERE late GROUP BY ALL",
    )
    assert late_rows == [(LATE, held_rows, DELIVERED_ON, dt.date(2023, 5, 5), True)]
    # Every published plan's own files: byte for byte what they were. Whether the late results bar an inspector
    # assigned in a plan still ahead depends on the fresh seeds; if so, that is an amendment recorded beside them
    # (and only the amended tasks and their branch's lists change), never a failed check.
    after = digest.sha256_tree(home.plans)
    assert {f: after.get(f) for f in plans_before} == plans_before
    records = sorted(f for f in after if f not in plans_before)
    assert all(f.rsplit("/", 1)[-1] in ("exclusions.csv", "amendments.csv") for f in records)
    for folder in {f.split("/")[0] for f in records}:
        assert amendments.verify(home.plans / folder) == []
    amended = {(r[1], r[3]) for r in _table(home, "SELECT * FROM sampling.plan WHERE amendment IS NOT NULL")}
    plan_rows_after = _table(home, "SELECT * FROM sampling.plan ORDER BY ALL")
    assert [r for r in plan_rows_after if (r[1], r[3]) not in amended] == [
        r for r in plan_rows_before if (r[1], r[3]) not in amended
    ]
    assert len(plan_rows_after) == len(plan_rows_before)
    assert records or not amended  # an amended task rests on its recorded facts
    if not amended:
        assert digest.sha256_tree(home.exports / "task_lists") == lists_before
