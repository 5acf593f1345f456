"""What zs-risk shows while runs execute in-process (运行进度): the progress line fed by the instance's event
listener, the run log with a failed step's stack trace, the warnings tally, the stage clock, and the SQLite files
kept open during a run."""

from __future__ import annotations

import io
import sqlite3
import uuid
from pathlib import Path

import dagster as dg
import pytest

from zs_risk_pipeline import progress
from zs_risk_pipeline.defs import kept_open


@dg.asset(group_name="first")
def one() -> int:
    return 1


@dg.asset(group_name="first", deps=[one])
def two() -> None:
    pass


@dg.asset_check(asset=two)
def two_is_fine() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=True)


@dg.asset(group_name="second", deps=[two])
def broken() -> None:
    raise ValueError("the source file has no header\nsecond line of the message")


@dg.asset(group_name="third", deps=[broken])
def after_broken() -> None:
    pass


@dg.multi_asset(
    name="layer",
    specs=[dg.AssetSpec("m1", group_name="first", deps=[one]), dg.AssetSpec("m2", group_name="first", deps=[one])],
    check_specs=[dg.AssetCheckSpec("m1_is_fine", asset="m1")],
)
def layer():  # one step, two assets and a check (as the ingest layers are)
    yield dg.MaterializeResult(asset_key="m1")
    yield dg.AssetCheckResult(asset_key="m1", check_name="m1_is_fine", passed=True)
    yield dg.MaterializeResult(asset_key="m2")


DEFS = dg.Definitions(
    assets=[one, two, layer, broken, after_broken],
    asset_checks=[two_is_fine],
    jobs=[dg.define_asset_job("chain", selection="*")],
    executor=dg.in_process_executor,
)


@pytest.fixture
def instance(tmp_path: Path):
    home = tmp_path / "dagster_home"
    home.mkdir()
    with dg.instance_for_test(temp_dir=str(home)) as inst:
        yield inst


def _run(instance: dg.DagsterInstance, shown: progress.StepProgress, kept: kept_open.SqliteKeptOpen | None = None):
    run_id = str(uuid.uuid4())

    def listen(entry: dg.EventLogEntry) -> None:
        if kept is not None:
            kept.hold_run(run_id)
        shown(entry)

    instance.add_event_listener(run_id, listen)
    job = DEFS.resolve_job_def("chain")
    quiet = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
    result = job.execute_in_process(instance=instance, run_id=run_id, raise_on_error=False, run_config=quiet)
    shown.close()
    return result


def test_progress_line_marks_each_group_and_the_log_keeps_the_stack_trace(instance, tmp_path: Path) -> None:
    out = io.StringIO()
    log = progress.RunLog(tmp_path / "logs" / "run.log")
    groups = {spec.key: spec.group_name for spec in DEFS.resolve_all_asset_specs()}
    shown = progress.StepProgress("[1/1] 2024-03", groups, ["first", "second", "third"], out, live=False, log=log)
    result = _run(instance, shown)
    log.close()
    assert not result.success
    line = out.getvalue()
    # in data-flow order; the step after the failure never ran
    assert line == "[1/1] 2024-03  first ✓ second ✗ third –\n"
    assert shown.step_names == {
        "one": "one",
        "two": "two",
        "two_two_is_fine": "two:two_is_fine",
        "layer": "layer (2 assets)",
        "broken": "broken",
        "after_broken": "after_broken",
    }
    assert set(shown.durations) >= {"one", "two", "two_two_is_fine", "broken"}
    text = (tmp_path / "logs" / "run.log").read_text(encoding="utf-8")
    assert "STEP_FAILURE" in text and ", in broken\n" in text and "the source file has no header" in text
    assert (tmp_path / "logs" / "run.log").stat().st_mode & 0o077 == 0  # messages may quote delivered data


def test_live_progress_redraws_one_line_and_erases_it(instance) -> None:
    out = io.StringIO()
    groups = {spec.key: spec.group_name for spec in DEFS.resolve_all_asset_specs()}
    shown = progress.StepProgress("[2/5] 2024-04", groups, ["first", "second", "third"], out, live=True)
    _run(instance, shown)
    drawn = out.getvalue()
    assert "\n" not in drawn and drawn.count("\r\x1b[2K") >= 5 and drawn.endswith("\r\x1b[2K")
    assert "first ✓" in drawn and "steps," in drawn


def test_sqlite_files_kept_open_during_a_run_change_nothing_dagster_stores(instance) -> None:
    groups = {spec.key: spec.group_name for spec in DEFS.resolve_all_asset_specs()}
    kept = kept_open.SqliteKeptOpen(instance)
    with kept:
        result = _run(instance, progress.StepProgress("x", groups, [], io.StringIO(), live=False), kept)
        shard = instance.event_log_storage.path_for_shard(result.run_id)
        assert shard in kept._held and len(kept._held) >= 2  # the index and the run's own shard
    assert not kept._held
    plain = _run(instance, progress.StepProgress("y", groups, [], io.StringIO(), live=False))
    kinds = [r.event_log_entry.dagster_event_type for r in instance.get_records_for_run(result.run_id).records]
    again = [r.event_log_entry.dagster_event_type for r in instance.get_records_for_run(plain.run_id).records]
    assert kinds == again and len(kinds) > 10
    with sqlite3.connect(shard) as conn:  # the shard is a consistent database once nothing holds it
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]


def test_warning_tally_counts_runs_not_months() -> None:
    tally = progress.WarningTally()
    tally.add("2024-10", ["tiers/enterprise_monthly:tier_shares_within_tolerance"])
    tally.add("2024-11", [])
    tally.add("2024-10", ["tiers/enterprise_monthly:tier_shares_within_tolerance", "publicity/x:late"])
    lines = tally.lines()
    assert "2 kinds in 2 of 3 runs" in lines[0]
    assert lines[1].split() == ["tiers/enterprise_monthly:tier_shares_within_tolerance", "in", "2", "runs", "(2024-10)"]
    assert lines[2].split()[-3:] == ["1", "run", "(2024-10)"]
    assert progress.WarningTally(runs=4).lines() == ["warnings: none in 4 runs"]


def test_stage_clock_and_durations() -> None:
    clock = progress.StageClock()
    with clock.stage("synthetic city"):
        pass
    lines = clock.lines([("features/enterprise_monthly", 2.25)])
    assert lines[0].startswith("== time: ") and lines[0].endswith(" in all")
    assert lines[1].split()[:2] == ["synthetic", "city"]
    assert lines[2] == "  slowest steps (mean per run): features/enterprise_monthly 2.2 s"
    assert [progress.clock(s) for s in (3.04, 65, 3725)] == ["3.0 s", "1 min 05 s", "1 h 02 min"]
    runs_ = [{"a": 1.0, "b": 4.0}, {"a": 3.0}]
    assert progress.slowest_steps(runs_, 1) == [("b", 4.0)] and progress.slowest_steps(runs_)[1] == ("a", 2.0)
