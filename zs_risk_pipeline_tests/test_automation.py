"""The monthly schedule and the inspection-results sensor, driven with Dagster's test contexts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import dagster as dg
import pytest

from zs_risk_pipeline.defs.automation import TIERS, inspection_results_sensor, monthly_chain_schedule
from zs_risk_pipeline.defs.resources import ZsRiskHome
from zs_risk_pipeline.lib import feedback


def _drop(home: Path, month: str, name: str, text: str) -> None:
    folder = home / "landing" / "inspections" / month
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")


def _tick(instance: dg.DagsterInstance, home: Path, cursor: str | None) -> dg.SensorResult:
    ctx = dg.build_sensor_context(instance=instance, cursor=cursor, resources={"zs_home": ZsRiskHome(home=str(home))})
    return inspection_results_sensor(ctx)


def _built(instance: dg.DagsterInstance, months: list[str]) -> None:
    for m in months:  # as if the monthly chain had built these months
        instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=TIERS, partition=m))


def test_sensor_requests_the_delivery_month_and_later_built_months_once(tmp_path: Path) -> None:
    with dg.instance_for_test() as instance:
        _built(instance, ["2024-01-01", "2024-02-01", "2024-03-01", "2024-04-01"])
        _drop(tmp_path, "2024-01", "results.csv", "task_id,uscc\nT0,X\n")
        baseline = _tick(instance, tmp_path, None)  # first tick: what is there was ingested by the monthly chain
        assert not baseline.run_requests and baseline.cursor

        _drop(tmp_path, "2024-02", "results.csv", "task_id,uscc\nT1,X\n")
        first = _tick(instance, tmp_path, baseline.cursor)
        assert [r.partition_key for r in first.run_requests] == ["2024-02-01", "2024-03-01", "2024-04-01"]
        assert len({r.run_key for r in first.run_requests}) == 3
        assert all(r.tags["zs_risk/feedback_file"] == "2024-02/results.csv" for r in first.run_requests)

        # the same file again (next tick, cursor carried): nothing to do
        again = _tick(instance, tmp_path, first.cursor)
        assert not again.run_requests and again.skip_reason is not None

        # the file re-delivered with other bytes: a new run for each affected month, with new run keys
        _drop(tmp_path, "2024-02", "results.csv", "task_id,uscc\nT1,X\nT2,Y\n")
        changed = _tick(instance, tmp_path, first.cursor)
        assert [r.partition_key for r in changed.run_requests] == ["2024-02-01", "2024-03-01", "2024-04-01"]
        assert not {r.run_key for r in changed.run_requests} & {r.run_key for r in first.run_requests}


def test_sensor_ignores_hidden_files_and_other_folders(tmp_path: Path) -> None:
    with dg.instance_for_test() as instance:
        baseline = _tick(instance, tmp_path, None).cursor
        _drop(tmp_path, "2024-05", ".partial.csv", "x")
        (tmp_path / "landing" / "inspections" / "notes").mkdir(parents=True)
        assert _tick(instance, tmp_path, baseline).run_requests == []
        _drop(tmp_path, "2024-05", "a.csv", "x")
        _drop(tmp_path, "2024-05", "b.csv", "y")
        result = _tick(instance, tmp_path, baseline)
        assert [r.partition_key for r in result.run_requests] == ["2024-05-01"]  # one run for the month


def test_results_for_the_running_month_wait_for_the_schedule() -> None:
    built = {"2024-04-01", "2024-05-01"}
    assert feedback.months_to_rerun("2024-05", built, dt.date(2024, 6, 1)) == ["2024-05-01"]
    assert feedback.months_to_rerun("2024-06", built, dt.date(2024, 6, 20)) == []  # June is not over
    assert feedback.months_to_rerun("2024-04", built, dt.date(2024, 6, 20)) == ["2024-04-01", "2024-05-01"]


@pytest.mark.parametrize(
    ("tick", "month"),
    [(dt.datetime(2024, 4, 2, 6, 0), "2024-03-01"), (dt.datetime(2025, 1, 2, 6, 0), "2024-12-01")],
)
def test_schedule_builds_the_month_just_ended(tick: dt.datetime, month: str) -> None:
    ctx = dg.build_schedule_context(scheduled_execution_time=tick)
    request = monthly_chain_schedule(ctx)
    assert request.partition_key == month
    assert feedback.previous_month(tick.date()) == month


def test_schedule_and_sensor_run_by_default() -> None:
    assert monthly_chain_schedule.cron_schedule == "0 6 2 * *"
    assert monthly_chain_schedule.execution_timezone == "Asia/Shanghai"
    assert monthly_chain_schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    assert inspection_results_sensor.default_status == dg.DefaultSensorStatus.RUNNING
