"""Runs whose process died (运行进程已终止): mark them failed, free their pool slots, and say who holds a slot.

Dagster frees a step's concurrency slot when the step ends. For runs the UI, a schedule or a sensor launches (the
DefaultRunLauncher starts a run worker process under the code server), the code server marks a run whose worker
died as failed, and run monitoring (config/dagster.yaml `run_monitoring.free_slots_after_run_end_seconds`) frees
the slots of ended runs. Nothing does either for a run executed in-process (`zs-risk run`, execute_in_process)
whose process is killed (SIGKILL, out of memory, a reboot): the run stays STARTED and keeps its `duckdb` pool slot,
so every later run waits for it forever.

A run is *provably dead* here when the process that executed it is gone from the host it ran on:
- `zs-risk run` tags its runs with the process id, the host and the process's start time (`process_tags`); the
  process is gone when this host has no such pid, or only a zombie, or a process started at another time (the pid
  was reused);
- any other run (UI/daemon run workers, `dagster asset materialize`): the pid Dagster records on the run's
  RUN_START event, trusted as a pid of this host only when the instance keeps its runs in local SQLite files; the
  process is gone when the pid is missing or belongs to a process started after that event;
- and a step holding a slot in a process of its own (its STEP_START event's pid) must be gone as well.
A run of another host, or without a recorded process, is never touched: the UI can free it by hand.

`reap_dead_runs` marks dead unfinished runs failed (`DagsterInstance.report_run_failed`) and frees every slot and
pending claim of a dead run (`event_log_storage.free_concurrency_slots_for_run`). `zs-risk run` calls it before
each run and, through `RunWatch`, for the holder of a slot it waits for; `dead_runs_sensor` calls it for the
daemon. `RunWatch` also says once who holds the slot a run waits for, and ends a waiting run on SIGTERM/SIGINT.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import dagster as dg

if TYPE_CHECKING:
    from dagster._utils.concurrency import ConcurrencyKeyInfo
from zs_risk_pipeline.defs import processes

# Runs that may have a process executing them (QUEUED ones wait for the daemon; SUSPENDED ones have none).
UNFINISHED = [
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]


@dataclass(frozen=True)
class DeadRun:
    """A run whose process is gone, and what was done about it."""

    run_id: str
    job_name: str | None
    partition: str | None
    process: processes.RunProcess | None
    marked_failed: bool
    freed_pools: tuple[str, ...]

    def describe(self) -> str:
        what = ", ".join(x for x in (self.job_name, self.partition, str(self.process or "")) if x)
        done = ["marked it failed"] if self.marked_failed else []
        if self.freed_pools:
            pools = " and ".join(self.freed_pools)
            done.append(f"freed its {pools} pool slot{'s' * (len(self.freed_pools) > 1)}")
        elif not self.marked_failed:
            done.append("dropped its queued pool claims")
        gone = "died without finishing" if self.marked_failed else "has ended"
        return f"run {self.run_id} ({what or 'no longer in the run history'}) {gone}: {', '.join(done)}"


def _claims(instance: dg.DagsterInstance) -> dict[str, ConcurrencyKeyInfo]:
    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        return {}
    return dict(storage.get_concurrency_infos(sorted(storage.get_concurrency_keys())))


def reap_dead_runs(instance: dg.DagsterInstance, run_ids: Iterable[str] | None = None) -> list[DeadRun]:
    """Mark failed every unfinished run whose process is provably gone, and free what dead runs hold.

    A run holding a slot is dead only when the process of each step holding one is gone too (a step may run in a
    process of its own). `run_ids`: only these runs (e.g. the holder of a slot); by default every unfinished run
    and every run holding or queueing for a pool slot."""
    held: dict[str, set[str]] = {}  # run id -> pools it holds a slot of
    held_steps: dict[str, set[str]] = {}  # run id -> the steps holding them
    queued: set[str] = set()  # run ids with a pending claim
    for pool, info in _claims(instance).items():
        for slot in info.claimed_slots:
            held.setdefault(slot.run_id, set()).add(pool)
            held_steps.setdefault(slot.run_id, set()).add(slot.step_key)
        queued.update(step.run_id for step in info.pending_steps)
    if run_ids is None:
        unfinished = {r.run_id for r in instance.get_runs(filters=dg.RunsFilter(statuses=UNFINISHED))}
        candidates = sorted(unfinished | set(held) | queued)
    else:
        candidates = sorted(set(run_ids))
    dead = []
    for run_id in candidates:
        run = instance.get_run_by_id(run_id)
        process = processes.run_process(instance, run) if run is not None else None
        if run is not None and (process is None or not process.gone()):
            continue
        if run is not None and process is not None:
            steps = _step_processes(instance, run_id, held_steps.get(run_id, set()), process)
            if not all(p.gone() for p in steps):
                continue
        marked = False
        if run is not None and not run.is_finished:
            _mark_failed(instance, run, f"Its process ({process}) is gone")
            marked = True
        if run_id in held or run_id in queued:
            instance.event_log_storage.free_concurrency_slots_for_run(run_id)
        if marked or run_id in held or run_id in queued:
            partition = run.tags.get("dagster/partition") if run is not None else None
            job = run.job_name if run is not None else None
            dead.append(DeadRun(run_id, job, partition, process, marked, tuple(sorted(held.get(run_id, ())))))
    return dead


def _step_processes(
    instance: dg.DagsterInstance, run_id: str, steps: set[str], run: processes.RunProcess
) -> list[processes.RunProcess]:
    """The processes other than the run's own that started the given steps (STEP_START events carry a pid)."""
    if not steps:
        return []
    records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.STEP_START).records
    found = []
    for record in records:
        entry = record.event_log_entry
        pid = entry.dagster_event.pid if entry.dagster_event is not None else None
        if entry.step_key in steps and pid and pid != run.pid:
            found.append(processes.RunProcess(pid, run.host, None, entry.timestamp))
    return found


def _mark_failed(instance: dg.DagsterInstance, run: dg.DagsterRun, why: str) -> None:
    from dagster._core.events import JobFailureData, RunFailureReason

    instance.report_run_failed(
        run,
        f"{why}: marked failed by zs-risk, and its concurrency slots freed.",
        JobFailureData(error=None, failure_reason=RunFailureReason.UNEXPECTED_TERMINATION),
    )


def release(instance: dg.DagsterInstance, run_id: str, why: str) -> None:
    """After this process stopped executing `run_id` in-process: nothing of the run runs any more, so it frees its
    slots (an interrupted step keeps its claim) and marks it failed if it never finished."""
    run = instance.get_run_by_id(run_id)
    if run is not None and not run.is_finished:
        _mark_failed(instance, run, why)
    if instance.event_log_storage.supports_global_concurrency_limits:
        instance.event_log_storage.free_concurrency_slots_for_run(run_id)


def describe_holder(instance: dg.DagsterInstance, run_id: str) -> str:
    """'run <id> (<job>, <partition>, pid N, started …)' for the waiting message."""
    record = instance.get_run_record_by_id(run_id)
    if record is None:
        return f"run {run_id} (no longer in the run history)"
    run = record.dagster_run
    process = processes.run_process(instance, run)
    started = record.start_time or record.create_timestamp.timestamp()
    parts = [
        run.job_name,
        run.tags.get("dagster/partition") or "no partition",
        str(process) if process else "pid unknown",
        f"started {datetime.fromtimestamp(started).astimezone():%Y-%m-%d %H:%M:%S %Z}",
    ]
    if run.is_finished:
        parts.append(f"{run.status.value}, yet still holding it")
    return f"run {run_id} ({', '.join(parts)})"


class RunWatch:
    """While this process executes run `run_id` in-process, a thread polls the instance's pool claims:

    - when the run waits for a pool slot, it says once per holder `waiting for the <pool> pool slot, held by run …`,
      or, when the holder's process is gone, marks it failed and frees its slots (`reap_dead_runs`);
    - on SIGTERM or SIGINT (seen through `signal.set_wakeup_fd`, whichever handler Dagster installed), a run that
      waits for a slot is marked canceled, its claims are dropped and the process ends at once with 128 + the
      signal number: Dagster's in-process executor only acts on an interrupt inside a step, never while waiting.
      A step that runs is interrupted by Dagster itself; `signal` then tells the caller to stop.
    Entered on the main thread only does it see signals."""

    def __init__(
        self, instance: dg.DagsterInstance, run_id: str, say: Callable[[str], None], poll_seconds: float = 2.0
    ) -> None:
        # Each poll reads the pool claims (a few SQLite connections): every 0.5 s that cost ~2 % of a run. A signal
        # wakes the watcher at once whatever the interval; only the waiting message may come up to 2 s late.
        self.instance = instance
        self.run_id = run_id
        self.say = say
        self.poll_seconds = poll_seconds
        self.signal: int | None = None
        self._stop = threading.Event()
        self._told: set[str] = set()
        self._wakeup: tuple[socket.socket, socket.socket] | None = None
        self._old_wakeup_fd = -1
        self._thread = threading.Thread(target=self._loop, name="zs-risk-run-watch", daemon=True)

    def __enter__(self) -> RunWatch:
        if threading.current_thread() is threading.main_thread():
            read, write = socket.socketpair()
            read.setblocking(False)
            write.setblocking(False)
            self._old_wakeup_fd = signal.set_wakeup_fd(write.fileno(), warn_on_full_buffer=False)
            self._wakeup = (read, write)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._wakeup is not None:
            self._wakeup[1].send(b"\0")  # wakes the watcher's select; not a signal number
        self._thread.join(timeout=10)
        if self._wakeup is not None:
            signal.set_wakeup_fd(self._old_wakeup_fd)
            for s in self._wakeup:
                s.close()

    def _wait(self) -> None:
        if self._wakeup is None:
            self._stop.wait(self.poll_seconds)
            return
        read = self._wakeup[0]
        ready, _, _ = select.select([read], [], [], self.poll_seconds)
        if ready:
            with contextlib.suppress(BlockingIOError):
                for signum in read.recv(64):
                    if signum in (signal.SIGTERM, signal.SIGINT) and self.signal is None:
                        self.signal = signum

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wait()
            if self._stop.is_set():
                return
            try:
                self._check()
            except Exception:  # the watcher must never break the run it watches (e.g. a busy SQLite file)
                time.sleep(self.poll_seconds)

    def _waiting(self) -> dict[str, list[str]]:
        """{pool: [holder run ids]} for each pool this run waits for a slot of."""
        waiting = {}
        for pool, info in _claims(self.instance).items():
            mine = [s for s in info.pending_steps if s.run_id == self.run_id and s.assigned_timestamp is None]
            if mine and not any(s.run_id == self.run_id for s in info.claimed_slots):
                # a slot is held by its claim, or for a moment by a queued step it was assigned to
                assigned = {s.run_id for s in info.pending_steps if s.assigned_timestamp is not None}
                waiting[pool] = sorted(({s.run_id for s in info.claimed_slots} | assigned) - {self.run_id})
        return waiting

    def _check(self) -> None:
        waiting = self._waiting()
        if self.signal is not None and waiting:
            self._cancel_and_exit(waiting)
        for pool, holders in waiting.items():
            dead = {d.run_id: d for d in reap_dead_runs(self.instance, holders)}
            for holder in holders:
                if holder in dead:
                    self.say(dead[holder].describe())
                elif holder not in self._told:
                    self.say(f"waiting for the {pool} pool slot, held by {describe_holder(self.instance, holder)}")
                self._told.add(holder)

    def _cancel_and_exit(self, waiting: dict[str, list[str]]) -> None:
        name = signal.Signals(self.signal).name
        pools = " and ".join(waiting)
        run = self.instance.get_run_by_id(self.run_id)
        if run is not None and not run.is_finished:
            holders = ", ".join(h for hs in waiting.values() for h in hs) or "nobody"
            self.instance.report_run_canceled(
                run, f"{name} while waiting for the {pools} pool slot (held by run {holders}): canceled by zs-risk."
            )
        self.instance.event_log_storage.free_concurrency_slots_for_run(self.run_id)
        self.say(f"{name} while waiting for the {pools} pool slot: run {self.run_id} canceled, it held nothing")
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(128 + self.signal)


@dg.sensor(
    name="dead_runs_sensor",
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Marks failed the runs whose process is provably gone (e.g. a `zs-risk run` killed while it held the duckdb "
        "pool slot) and frees their pool slots, so the runs the daemon launches do not wait for them forever. "
        "进程已终止的运行标记为失败并释放其并发槽位。"
    ),
)
def dead_runs_sensor(context: dg.SensorEvaluationContext) -> dg.SkipReason:
    dead = reap_dead_runs(context.instance)
    return dg.SkipReason("; ".join(d.describe() for d in dead) if dead else "no dead runs")
