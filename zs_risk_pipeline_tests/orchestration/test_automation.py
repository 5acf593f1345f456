"""The monthly schedule and the inspection-results sensor, driven with Dagster's test contexts."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from zs_risk_pipeline.defs.automation import TIERS, inspection_results_sensor, monthly_chain_schedule
from zs_risk_pipeline.defs.jobs import results_on_arrival
from zs_risk_pipeline.defs.resources import ZsRiskHome
from zs_risk_pipeline.lib.ingest import arrivals
from zs_risk_pipeline.lib.publicity import deadlines, export_files, export_rules


def _drop(home: Path, month: str, name: str, text: str, source: str = "inspections") -> None:
    folder = home / "landing" / source / month
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


def _running_month() -> str:
    return dt.datetime.now(ZoneInfo("Asia/Shanghai")).date().strftime("%Y-%m")


def test_results_of_the_running_month_are_published_the_day_they_arrive(tmp_path: Path) -> None:
    running = _running_month()
    with dg.instance_for_test() as instance:
        _built(instance, ["2024-01-01"])
        baseline = _tick(instance, tmp_path, None).cursor
        _drop(tmp_path, running, "inspections_a.csv", "task_id,uscc\nT1,X\n")
        result = _tick(instance, tmp_path, baseline)
        # not the monthly chain (the month is not over), only the small job that publishes the new results
        assert [(r.job_name, r.partition_key) for r in result.run_requests] == [("results_on_arrival", f"{running}-01")]
        first = result.run_requests[0]
        assert first.tags["zs_risk/feedback_file"] == f"{running}/inspections_a.csv"
        assert _tick(instance, tmp_path, result.cursor).run_requests == []  # the same bytes: nothing again
        _drop(tmp_path, running, "inspections_a.csv", "task_id,uscc\nT1,X\nT2,Y\n")
        changed = _tick(instance, tmp_path, result.cursor).run_requests
        assert [r.job_name for r in changed] == ["results_on_arrival"] and changed[0].run_key != first.run_key


def test_the_arrival_job_lands_stages_and_publishes_only_the_results() -> None:
    keys = {k.to_user_string() for k in results_on_arrival.selection.resolve(_graph())}
    assert keys == {"raw/inspections", "staging/inspections", "publicity/result_batches"}


def _graph():
    from zs_risk_pipeline.definitions import build_defs

    return build_defs().resolve_asset_graph()


@pytest.mark.parametrize("source", ["conflicts", "inspectors"])
def test_late_conflicts_and_inspector_files_rerun_like_results(tmp_path: Path, source: str) -> None:
    running = _running_month()
    with dg.instance_for_test() as instance:
        _built(instance, ["2024-01-01", "2024-02-01", "2024-03-01"])
        _drop(tmp_path, "2024-01", "baseline.csv", "x", source)
        baseline = _tick(instance, tmp_path, None)
        assert not baseline.run_requests
        _drop(tmp_path, "2024-02", f"{source}_late.csv", "inspector_id,uscc\nI1,X\n", source)
        result = _tick(instance, tmp_path, baseline.cursor)
        assert [(r.job_name, r.partition_key) for r in result.run_requests] == [
            ("monthly_chain", "2024-02-01"),
            ("monthly_chain", "2024-03-01"),
        ]
        assert {r.tags["zs_risk/feedback_source"] for r in result.run_requests} == {source}
        # a declaration of the running month waits for the schedule: no run, no publication
        _drop(tmp_path, running, f"{source}_now.csv", "inspector_id,uscc\nI2,Y\n", source)
        now = _tick(instance, tmp_path, result.cursor)
        assert now.run_requests == [] and now.skip_reason is not None


def test_a_cursor_of_the_inspections_only_sensor_is_carried_over(tmp_path: Path) -> None:
    with dg.instance_for_test() as instance:
        _drop(tmp_path, "2024-01", "results.csv", "task_id,uscc\nT0,X\n")
        _drop(tmp_path, "2024-01", "conflicts.csv", "inspector_id,uscc\nI1,X\n", "conflicts")
        old = json.dumps(arrivals.scan(tmp_path / "landing"))  # what the earlier sensor stored
        result = _tick(instance, tmp_path, old)
        # neither the known results nor the newly watched sources' files count as new
        assert result.run_requests == [] and set(json.loads(result.cursor)) == set(arrivals.WATCHED)


def test_runs_for_new_files_by_job_and_month() -> None:
    built = {"2024-04-01", "2024-05-01"}  # June is running: not built yet
    today = dt.date(2024, 6, 20)
    new = [
        ("inspections", "2024-06/inspections_20240614.csv", "a" * 64),
        ("inspections", "2024-06/inspections_20240621.csv", "b" * 64),
        ("conflicts", "2024-04/conflicts_202404.csv", "c" * 64),
        ("inspectors", "2024-06/inspectors_202406.csv", "d" * 64),  # running month: left to the schedule
    ]
    runs = arrivals.plan_runs(new, built, today)
    assert [(r.job, r.partition, len(r.files)) for r in runs] == [
        ("monthly_chain", "2024-04-01", 1),
        ("monthly_chain", "2024-05-01", 1),
        ("results_on_arrival", "2024-06-01", 2),  # one run publishes both new results files of the running month
    ]
    assert len({r.run_key for r in runs}) == 3
    assert arrivals.plan_runs(new, built, today) == runs  # deterministic keys from the files' SHA-256


def test_results_for_the_running_month_wait_for_the_schedule() -> None:
    built = {"2024-04-01", "2024-05-01"}
    assert arrivals.months_to_rerun("2024-05", built, dt.date(2024, 6, 1)) == ["2024-05-01"]
    assert arrivals.months_to_rerun("2024-06", built, dt.date(2024, 6, 20)) == []  # June is not over
    assert arrivals.months_to_rerun("2024-04", built, dt.date(2024, 6, 20)) == ["2024-04-01", "2024-05-01"]


@pytest.mark.parametrize(
    ("tick", "month"),
    [(dt.datetime(2024, 4, 2, 6, 0), "2024-03-01"), (dt.datetime(2025, 1, 2, 6, 0), "2024-12-01")],
)
def test_schedule_builds_the_month_just_ended(tick: dt.datetime, month: str) -> None:
    ctx = dg.build_schedule_context(scheduled_execution_time=tick)
    request = monthly_chain_schedule(ctx)
    assert request.partition_key == month
    assert arrivals.previous_month(tick.date()) == month


def test_schedule_and_sensor_run_by_default() -> None:
    assert monthly_chain_schedule.cron_schedule == "0 6 2 * *"
    assert monthly_chain_schedule.execution_timezone == "Asia/Shanghai"
    assert monthly_chain_schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    assert inspection_results_sensor.default_status == dg.DefaultSensorStatus.RUNNING


@pytest.mark.e2e
def test_the_arrival_job_publishes_a_running_months_file_the_day_it_lands(home) -> None:
    from zs_risk_pipeline.definitions import build_defs
    from zs_risk_pipeline.lib.core import workdays

    today = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()
    month = today.strftime("%Y-%m")
    header = "task_id,plan_id,uscc,inspected_on,trigger,result_codes,result_text,department,recorded_on"
    task = f"TR-{month.replace('-', '')}-00001"
    row = f"{task},,91442000MA5L30P862,{today.replace(day=1)},triggered,NO_ISSUE,未发现问题,SCJGJ,{today}"
    # a deployment's first delivery: nothing else staged yet, the results are published all the same
    _drop(home.home, month, f"inspections_{today:%Y%m%d}.csv", f"{header}\n{row}\n")
    result = (
        build_defs()
        .resolve_job_def("results_on_arrival")
        .execute_in_process(partition_key=f"{month}-01", instance=dg.DagsterInstance.ephemeral())
    )
    assert result.success
    assert all(c.passed for c in result.get_asset_check_evaluations())
    published, _ = deadlines.publication_day(today, export_rules.load_config())  # the next working day
    batch = f"{published}_inspections_{today:%Y%m%d}"
    files = export_files.batch_paths(home.exports, month, batch)
    assert export_rules.verify_files(files) == ([], 1)
    assert workdays.workdays_after_until(today, published, export_rules.load_config().calendar)[0] == 1
    assert not export_files.file_paths(home.exports, month)["utf8"].exists()  # the month's record waits for its end
