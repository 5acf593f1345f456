"""Runs whose process died free what they held; a waiting run says who holds the slot (死掉的运行与并发槽位).

Real processes: a `zs-risk run` killed with SIGKILL while its run holds the duckdb pool slot, and a live holder
that a second `zs-risk run` must wait for (and can be stopped with SIGTERM while it waits)."""

from __future__ import annotations

import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import dagster as dg
import pytest

from zs_risk_pipeline.defs import processes, runs
from zs_risk_pipeline_tests.orchestration.test_dagster_month import _deliver

pytestmark = pytest.mark.e2e  # whole months through Dagster (make test runs them; -m "not e2e" skips)

PROJECT_ROOT = Path(__file__).resolve().parents[2]
RELEASE = ["--release-missing", "test: a one-firm city"]
ZS_RISK_RUN = [sys.executable, "-m", "zs_risk_pipeline.cli", "run", "--month", "2024-03", *RELEASE]
TIMEOUT = 180  # generous for a loaded machine; every wait below polls and returns as soon as its condition holds

# A real `zs-risk run` whose first ingest step takes forever: its run holds the duckdb pool slot meanwhile.
BLOCKED_RUN = """
import sys, time
from zs_risk_pipeline import cli
from zs_risk_pipeline.lib.ingest import staging

def land(*args, **kwargs):
    time.sleep(3600)

staging.land = land
sys.exit(cli.main(sys.argv[1:]))
"""

# Another process holding the duckdb pool slot through Dagster's own claim, tagged with its pid as `zs-risk run`
# tags its runs, until its stdin closes.
HOLDER = """
import sys
import dagster as dg
from zs_risk_pipeline.defs import processes


@dg.op(pool="duckdb")
def hold_the_warehouse():
    sys.stdin.read()

@dg.job(executor_def=dg.in_process_executor)
def holder():
    hold_the_warehouse()

with dg.DagsterInstance.get() as instance:
    tags = {**processes.process_tags(), "dagster/partition": "2024-02-01"}
    sys.exit(0 if holder.execute_in_process(instance=instance, tags=tags).success else 1)
"""

T = TypeVar("T")


def _poll(condition: Callable[[], T | None], what: str, timeout: float = TIMEOUT) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def _instance_home(home) -> None:
    # what `zs-risk` does on first use, so that this process reads the instance with the same settings
    shutil.copyfile(PROJECT_ROOT / "config" / "dagster.yaml", home.dagster_home / "dagster.yaml")


def _run_of(instance: dg.DagsterInstance, proc: subprocess.Popen) -> dg.DagsterRun | None:
    found = instance.get_runs(filters=dg.RunsFilter(tags={processes.PID_TAG: str(proc.pid)}))
    return found[0] if found else None


def _duckdb_claims(instance: dg.DagsterInstance) -> tuple[set[str], set[str]]:
    """(run ids holding a duckdb slot, run ids with a pending duckdb claim)"""
    info = instance.event_log_storage.get_concurrency_info("duckdb")
    return {s.run_id for s in info.claimed_slots}, {s.run_id for s in info.pending_steps}


def _holding(instance: dg.DagsterInstance, proc: subprocess.Popen) -> str | None:
    """The run id of `proc`'s run once it holds the duckdb slot."""
    assert proc.poll() is None, f"process {proc.pid} ended early with {proc.returncode}"
    run = _run_of(instance, proc)
    return run.run_id if run is not None and run.run_id in _duckdb_claims(instance)[0] else None


def _lines(proc: subprocess.Popen) -> queue.Queue[str]:
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        for line in proc.stdout:
            lines.put(line)

    threading.Thread(target=read, daemon=True).start()
    return lines


def _line_with(lines: queue.Queue[str], text: str, seen: list[str]) -> str:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.5)
        except queue.Empty:
            continue
        seen.append(line)
        if text in line:
            return line
    raise AssertionError(f"no line with {text!r} in:\n{''.join(seen)}")


def test_a_killed_run_is_marked_failed_and_its_slot_freed_by_the_next_run(home, tmp_path):
    _deliver(home)
    _instance_home(home)
    killed = subprocess.Popen([sys.executable, "-c", BLOCKED_RUN, *ZS_RISK_RUN[3:]], cwd=tmp_path)
    try:
        with dg.DagsterInstance.get() as instance:
            dead_id = _poll(lambda: _holding(instance, killed), "the run to hold the duckdb slot")
            os.kill(killed.pid, signal.SIGKILL)
            killed.wait(timeout=TIMEOUT)
            assert instance.get_run_by_id(dead_id).status == dg.DagsterRunStatus.STARTED  # what nobody cleaned up
            assert dead_id in _duckdb_claims(instance)[0]

            done = subprocess.run(ZS_RISK_RUN, cwd=tmp_path, capture_output=True, text=True, timeout=TIMEOUT)
            assert done.returncode == 0, done.stdout + done.stderr
            assert (
                f"run {dead_id} (monthly_chain, 2024-03-01, pid {killed.pid}) died without finishing: "
                "marked it failed, freed its duckdb pool slot"
            ) in done.stdout
            assert "[1/1] 2024-03: ok" in done.stdout
            dead = instance.get_run_by_id(dead_id)
            assert dead.status == dg.DagsterRunStatus.FAILURE
            held, pending = _duckdb_claims(instance)
            assert not held and not pending  # the dead run's slot freed, the next run's own released
            failure = instance.get_records_for_run(dead_id, of_type=dg.DagsterEventType.RUN_FAILURE).records
            assert f"pid {killed.pid}" in failure[-1].event_log_entry.dagster_event.message
    finally:
        if killed.poll() is None:
            killed.kill()


def test_a_run_waiting_for_a_live_holder_says_who_and_ends_on_sigterm(home, tmp_path):
    _deliver(home)
    _instance_home(home)
    holder = subprocess.Popen([sys.executable, "-c", HOLDER], cwd=tmp_path, stdin=subprocess.PIPE)
    waiter = None
    try:
        with dg.DagsterInstance.get() as instance:
            holder_id = _poll(lambda: _holding(instance, holder), "the holder to claim the duckdb slot")
            waiter = subprocess.Popen(
                ZS_RISK_RUN,
                cwd=tmp_path,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
            seen: list[str] = []
            line = _line_with(_lines(waiter), "waiting for the duckdb pool slot", seen)
            assert line.startswith("[1/1] 2024-03: waiting for the duckdb pool slot, held by run ")
            assert f"held by run {holder_id} (holder, 2024-02-01, pid {holder.pid}, started " in line

            waiting = _run_of(instance, waiter)
            held, pending = _duckdb_claims(instance)
            assert held == {holder_id} and waiting.run_id in pending  # the live holder keeps its slot

            waiter.send_signal(signal.SIGTERM)
            assert waiter.wait(timeout=30) == 128 + signal.SIGTERM
            waiter.stdout.close()
            assert instance.get_run_by_id(waiting.run_id).status == dg.DagsterRunStatus.CANCELED
            assert _duckdb_claims(instance) == ({holder_id}, {holder_id})  # the waiter's claim dropped

            holder.stdin.close()
            assert holder.wait(timeout=TIMEOUT) == 0
            assert instance.get_run_by_id(holder_id).status == dg.DagsterRunStatus.SUCCESS
    finally:
        for proc in (holder, waiter):
            if proc is not None and proc.poll() is None:
                proc.kill()


def test_only_a_provably_gone_process_is_dead():
    me = processes.process_tags()
    pid, started = int(me[processes.PID_TAG]), float(me[processes.PROCESS_STARTED_TAG])
    assert not processes.RunProcess(pid, socket.gethostname(), started).gone()
    assert processes.RunProcess(pid, socket.gethostname(), started - 1000).gone()  # the pid now names another process
    assert not processes.RunProcess(pid, None, None, seen_at=time.time()).gone()
    assert processes.RunProcess(pid, None, None, seen_at=started - 1000).gone()
    assert not processes.RunProcess(pid, "another-host", started - 1000).gone()  # never judged from here
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    assert processes.RunProcess(ended.pid, socket.gethostname()).gone()


@dg.op
def step():
    pass


@dg.job
def one_step_job():
    step()


@pytest.mark.parametrize("case", ["tagged", "untagged", "step_elsewhere"])
def test_reaping_frees_dead_runs_only(tmp_path, case):
    from dagster._core.definitions.dependency import NodeHandle
    from dagster._core.events import DagsterEvent
    from dagster._core.execution.plan.handle import StepHandle

    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        storage = instance.event_log_storage
        storage.set_concurrency_slots("duckdb", 2)
        dead_tags = {processes.PID_TAG: str(ended.pid), processes.HOST_TAG: socket.gethostname()}
        tags = {} if case == "untagged" else dead_tags
        dead = instance.create_run_for_job(one_step_job, status=dg.DagsterRunStatus.STARTED, tags=tags)
        live = instance.create_run_for_job(
            one_step_job, status=dg.DagsterRunStatus.STARTED, tags=processes.process_tags()
        )
        for run in (dead, live):
            assert storage.claim_concurrency_slot("duckdb", run.run_id, "step").is_claimed
        if case == "step_elsewhere":  # the run's process is gone, but the step holding the slot runs in this one
            started = DagsterEvent(
                dg.DagsterEventType.STEP_START.value,
                one_step_job.name,
                StepHandle(NodeHandle("step", None)),
                pid=os.getpid(),
            )
            instance.report_dagster_event(started, run_id=dead.run_id)

        reaped = runs.reap_dead_runs(instance)

        if case == "tagged":
            assert [(r.run_id, r.marked_failed, r.freed_pools) for r in reaped] == [(dead.run_id, True, ("duckdb",))]
            assert instance.get_run_by_id(dead.run_id).status == dg.DagsterRunStatus.FAILURE
            assert {s.run_id for s in storage.get_concurrency_info("duckdb").claimed_slots} == {live.run_id}
        else:  # no process recorded (nor a RUN_START event), or a live step: not provably dead, left alone
            assert reaped == []
            assert len(storage.get_concurrency_info("duckdb").claimed_slots) == 2
            assert instance.get_run_by_id(dead.run_id).status == dg.DagsterRunStatus.STARTED
        assert instance.get_run_by_id(live.run_id).status == dg.DagsterRunStatus.STARTED


def test_the_sensor_reaps_for_the_daemon(tmp_path):
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:
        tags = {
            processes.PID_TAG: str(ended.pid),
            processes.HOST_TAG: socket.gethostname(),
            "dagster/partition": "2024-03-01",
        }
        dead = instance.create_run_for_job(one_step_job, status=dg.DagsterRunStatus.STARTED, tags=tags)
        skip = runs.dead_runs_sensor(dg.build_sensor_context(instance=instance))
        assert (
            skip.skip_message
            == f"run {dead.run_id} (one_step_job, 2024-03-01, pid {ended.pid}) died without finishing: marked it failed"
        )
        assert instance.get_run_by_id(dead.run_id).status == dg.DagsterRunStatus.FAILURE
        assert runs.dead_runs_sensor(dg.build_sensor_context(instance=instance)).skip_message == "no dead runs"
