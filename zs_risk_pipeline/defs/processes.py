"""Which process a run belongs to (运行进程): the tags a run carries and whether that process still lives.

A run records its process id, host and start time; a later run can tell a dead holder of the warehouse from a
live one even when the pid has been reused. Plain Python on /proc, Dagster only for the tag names.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import dagster as dg

if TYPE_CHECKING:
    pass


PID_TAG = "zs_risk/pid"


HOST_TAG = "zs_risk/host"


PROCESS_STARTED_TAG = "zs_risk/process_started"  # seconds since the epoch, from the kernel's process table


# The kernel's start time of a process is exact to a clock tick; allow for rounding in the tag.
START_TOLERANCE_SECONDS = 1.0


def process_tags() -> dict[str, str]:
    """Tags naming this process, for a run it executes in-process."""
    pid = os.getpid()
    tags = {PID_TAG: str(pid), HOST_TAG: socket.gethostname()}
    started = _process_start(pid)
    if started is not None:
        tags[PROCESS_STARTED_TAG] = f"{started:.2f}"
    return tags


@dataclass(frozen=True)
class RunProcess:
    """The process that executed a run, as far as the run's records tell."""

    pid: int
    host: str | None  # None: this host (pid recorded by Dagster, runs in local SQLite files)
    started: float | None = None  # the process's start time, when recorded
    seen_at: float | None = None  # a moment the process was running (its RUN_START event)

    def gone(self) -> bool:
        """True only when the process is provably no longer running."""
        if self.host is not None and self.host != socket.gethostname():
            return False
        return not _running(self.pid, self.started, self.seen_at)

    def __str__(self) -> str:
        here = self.host is None or self.host == socket.gethostname()
        return f"pid {self.pid}" + ("" if here else f" on {self.host}")


def run_process(instance: dg.DagsterInstance, run: dg.DagsterRun) -> RunProcess | None:
    tags = run.tags
    if PID_TAG in tags:
        try:
            pid = int(tags[PID_TAG])
            started = float(tags[PROCESS_STARTED_TAG]) if PROCESS_STARTED_TAG in tags else None
        except ValueError:
            return None
        return RunProcess(pid, tags.get(HOST_TAG) or None, started) if pid > 0 else None
    from dagster._core.storage.runs import SqliteRunStorage

    if not isinstance(instance.run_storage, SqliteRunStorage):
        return None
    records = instance.get_records_for_run(
        run.run_id, of_type=dg.DagsterEventType.RUN_START, limit=1, ascending=False
    ).records
    entry = records[0].event_log_entry if records else None
    pid = entry.dagster_event.pid if entry is not None and entry.dagster_event is not None else None
    return RunProcess(pid, None, None, entry.timestamp) if entry is not None and pid else None


def _running(pid: int, started: float | None, seen_at: float | None) -> bool:
    """Whether `pid` is a live process of this host that is the one recorded: started at `started`, or running
    before `seen_at`. Without a process table to read (not Linux), only whether the pid exists."""
    proc = Path("/proc")
    if not (proc / "self" / "stat").exists():
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    try:
        stat = (proc / str(pid) / "stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    except OSError:
        return True
    state, start = _parse_stat(stat)
    if state in ("Z", "X", "x"):  # a zombie or dead process: it runs nothing any more
        return False
    if start is None:
        return True
    if started is not None and abs(start - started) > START_TOLERANCE_SECONDS:
        return False
    return not (seen_at is not None and start > seen_at + START_TOLERANCE_SECONDS)


def _parse_stat(stat: str) -> tuple[str, float | None]:
    """(state, start time in seconds since the epoch) from /proc/<pid>/stat."""
    fields = stat[stat.rfind(")") + 2 :].split()  # the command name, in parentheses, may hold spaces
    state = fields[0] if fields else "?"
    boot = _boot_time()
    try:
        ticks = int(fields[19])  # field 22 of the line: start time in clock ticks after boot
    except (IndexError, ValueError):
        return state, None
    return state, (boot + ticks / os.sysconf("SC_CLK_TCK")) if boot is not None else None


def _boot_time() -> float | None:
    try:
        for line in Path("/proc/stat").read_text().splitlines():
            if line.startswith("btime "):
                return float(line.split()[1])
    except OSError:
        pass
    return None


def _process_start(pid: int) -> float | None:
    try:
        return _parse_stat(Path(f"/proc/{pid}/stat").read_text())[1]
    except OSError:
        return None
