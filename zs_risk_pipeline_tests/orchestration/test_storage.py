"""The home's Dagster storage (Dagster 实例存储): Dagster's SQLite layout, the event log's connections kept open, and
what one process writes another reads at once."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from zs_risk_pipeline.defs import storage

PROJECT_ROOT = Path(__file__).resolve().parents[2]

JOB = """
import dagster as dg

months = dg.MonthlyPartitionsDefinition(start_date="2024-01-01", end_date="2025-01-01")

@dg.asset(partitions_def=months)
def counted() -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"rows": 1})

@dg.asset(partitions_def=months, deps=[counted], check_specs=[dg.AssetCheckSpec("positive", asset="summed")])
def summed():
    yield dg.MaterializeResult(check_results=[dg.AssetCheckResult(passed=True)])

job = dg.Definitions(assets=[counted, summed]).get_implicit_global_asset_job_def()
"""


@pytest.fixture
def dagster_home(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copyfile(PROJECT_ROOT / "config" / "dagster.yaml", home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    (tmp_path / "job_module.py").write_text(JOB, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    return home


def _materialised(instance: dg.DagsterInstance, partition: str) -> bool:
    return bool(instance.get_materialized_partitions(dg.AssetKey("summed")) & {partition})


def test_the_shipped_instance_keeps_dagster_layout_and_pools_the_event_log(dagster_home):
    import job_module

    with dg.DagsterInstance.get() as instance:
        events = instance.event_log_storage
        assert isinstance(events, storage.PooledSqliteEventLogStorage)
        months = [f"2024-{m:02d}-01" for m in range(1, 13)]
        for month in months:  # more runs than shards kept open
            assert job_module.job.execute_in_process(partition_key=month, instance=instance).success
        assert len(events._engines) <= storage.KEPT_SHARDS  # old run shards are let go, not held open forever
        assert "index" in events._engines  # the shard every asset event is mirrored to stays open
        run_ids = [r.run_id for r in instance.get_runs()]

    # Dagster's own layout under DAGSTER_HOME: the UI and a plain `dagster` CLI find the same history
    assert (dagster_home / "history" / "runs.db").is_file()
    assert (dagster_home / "history" / "runs" / "index.db").is_file()
    assert {p.stem for p in (dagster_home / "history" / "runs").glob("*.db")} >= set(run_ids)
    assert (dagster_home / "schedules" / "schedules.db").is_file()

    with dg.DagsterInstance.get() as again:  # a later process reads every run, and each run's full event log
        assert {r.run_id for r in again.get_runs()} == set(run_ids)
        assert all(_materialised(again, m) for m in months)
        for run_id in run_ids:
            types = {e.dagster_event_type for e in again.all_logs(run_id) if e.is_dagster_event}
            assert {dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.ASSET_CHECK_EVALUATION} <= types
            assert dg.DagsterEventType.RUN_SUCCESS in types


def test_another_process_sees_each_event_while_connections_stay_open(dagster_home, tmp_path):
    import job_module

    with dg.DagsterInstance.get() as instance:
        assert job_module.job.execute_in_process(partition_key="2024-01-01", instance=instance).success
        # a second process (as the UI's run worker or `zs-risk run` would be) writes while this one holds its
        # pooled connections to the same index shard
        child = subprocess.run(
            [
                sys.executable,
                "-c",
                "import dagster as dg, job_module\n"
                "with dg.DagsterInstance.get() as i:\n"
                "    assert job_module.job.execute_in_process(partition_key='2024-02-01', instance=i).success\n",
            ],
            cwd=tmp_path,
            env={**os.environ, "PYTHONPATH": str(tmp_path)},
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert child.returncode == 0, child.stderr[-2000:]
        assert _materialised(instance, "2024-02-01")  # seen through the kept connection, no stale snapshot
        assert job_module.job.execute_in_process(partition_key="2024-03-01", instance=instance).success
        assert len(instance.get_runs()) == 3


def test_the_storage_needs_a_home(monkeypatch):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    with pytest.raises(dg.DagsterInvariantViolationError, match="DAGSTER_HOME"):
        storage.HomeSqliteStorage.from_config_value(None, {})  # type: ignore[arg-type]
