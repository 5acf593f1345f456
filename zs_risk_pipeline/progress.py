"""What `zs-risk` shows while it executes runs in-process (运行进度): a progress line per run, the run log file, the
routine warnings tallied once, and the time of each stage.

`execute_in_process` takes no callback, but the instance calls its event listeners synchronously for every event it
stores (`DagsterInstance.add_event_listener`): a listener sees each step start and end as it happens, and writes
the full record - Dagster's messages, every check's result, a failed step's stack trace - to the log file, so the
console says only what happened and where the details are.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    import dagster as dg

DONE, FAILED, SKIPPED = "✓", "✗", "–"


def clock(seconds: float) -> str:
    """12.3 s, 4 min 05 s, 1 h 02 min."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


class RunLog:
    """Every event of the runs as one text line (and a failed step's error in full), appended to a log file kept
    owner-only: messages may quote what a source delivered."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self._file = os.fdopen(fd, "a", encoding="utf-8", buffering=1)

    def note(self, text: str) -> None:
        self._file.write(f"{dt.datetime.now().astimezone():%Y-%m-%d %H:%M:%S} {text}\n")

    def event(self, label: str, entry: dg.EventLogEntry) -> None:
        ev = entry.dagster_event
        when = dt.datetime.fromtimestamp(entry.timestamp).astimezone()
        kind = ev.event_type_value if ev is not None else "LOG"
        message = (ev.message if ev is not None else None) or entry.user_message or ""
        self._file.write(f"{when:%Y-%m-%d %H:%M:%S} {label} {entry.step_key or '-'} {kind}: {message}\n")
        error = _error(ev)
        if error is not None:
            self._file.write(error.to_string().rstrip() + "\n")

    def close(self) -> None:
        self._file.close()


def _error(ev: dg.DagsterEvent | None):  # -> SerializableErrorInfo | None
    if ev is None or not (ev.is_step_failure or ev.is_failure):
        return None
    data = ev.event_specific_data
    return getattr(data, "error", None)


@dataclass
class _Group:
    steps: set[str] = field(default_factory=set)
    ended: dict[str, str] = field(default_factory=dict)  # step -> mark

    @property
    def mark(self) -> str | None:
        """✓ once every step ended well, ✗ when one failed, – when all were skipped; None while running."""
        if len(self.ended) < len(self.steps):
            return None
        marks = set(self.ended.values())
        return FAILED if FAILED in marks else SKIPPED if marks == {SKIPPED} else DONE


def _step_end_marks() -> dict:
    import dagster as dg

    return {
        dg.DagsterEventType.STEP_SUCCESS: DONE,
        dg.DagsterEventType.STEP_FAILURE: FAILED,
        dg.DagsterEventType.STEP_SKIPPED: SKIPPED,
    }


class StepProgress:
    """One run's progress on one line: its groups in data-flow order, each marked once all its steps ended.

    On a terminal (`live`) the line is redrawn at every step, with the step count and the time so far, and erased
    at the end for the run's result line; otherwise the marks are appended as groups complete and the line ends
    with the run. The steps and their groups come from the run's own planned events."""

    def __init__(
        self,
        label: str,
        groups: Mapping[dg.AssetKey, str],
        order: Sequence[str],
        out: TextIO,
        live: bool,
        log: RunLog | None = None,
    ) -> None:
        self.label = label
        self.group_of_asset = groups
        self.order = list(order)
        self.out = out
        self.live = live
        self.log = log
        self.started = time.perf_counter()
        self.durations: dict[str, float] = {}  # step -> seconds
        self.step_names: dict[str, str] = {}  # step -> asset, or asset:check, as the UI names it
        self._step_assets: Counter[str] = Counter()
        self._groups: dict[str, _Group] = defaultdict(_Group)
        self._step_group: dict[str, str] = {}
        self._step_start: dict[str, float] = {}
        self._printed: list[str] = []  # groups already appended (not live)
        self._running: str | None = None
        self._open = False
        self._end_marks = _step_end_marks()

    # -- the listener ------------------------------------------------------------------------------------------
    def __call__(self, entry: dg.EventLogEntry) -> None:
        import dagster as dg

        if self.log is not None:
            self.log.event(self.label, entry)
        ev = entry.dagster_event
        step = entry.step_key
        if ev is None or step is None:
            return
        kind = ev.event_type
        if kind == dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED and ev.asset_key is not None:
            self._plan(step, ev.asset_key, ev.asset_key.to_user_string())
        elif kind == dg.DagsterEventType.ASSET_CHECK_EVALUATION_PLANNED:
            planned = ev.event_specific_data
            self._plan(step, planned.asset_key, f"{planned.asset_key.to_user_string()}:{planned.check_name}")
        elif kind == dg.DagsterEventType.STEP_START:
            self._step_start[step] = entry.timestamp
            self._running = step
            self._draw()
        elif kind in self._end_marks:
            mark = self._end_marks[kind]
            if step in self._step_start:
                self.durations[step] = entry.timestamp - self._step_start[step]
            self._end(step, mark)

    def _plan(self, step: str, key: dg.AssetKey, name: str) -> None:
        if step in self._step_group:
            if ":" not in name:  # a step that builds several assets (the ingest layers) is named as a step
                self._step_assets[step] += 1
                self.step_names[step] = f"{step} ({self._step_assets[step]} assets)"
            return
        self._step_assets[step] = 1
        self.step_names[step] = name
        group = self.group_of_asset.get(key) or key.path[0]
        if group not in self.order:
            self.order.append(group)
        self._step_group[step] = group
        self._groups[group].steps.add(step)

    def _end(self, step: str, mark: str) -> None:
        group = self._step_group.get(step)
        if group is None:
            return
        self._groups[group].ended[step] = mark
        if self._running == step:
            self._running = None
        self._draw()

    # -- drawing -----------------------------------------------------------------------------------------------
    def _marks(self) -> list[str]:
        parts = []
        for name in self.order:
            g = self._groups.get(name)
            if g is None or not g.steps:
                continue
            parts.append(f"{name} {g.mark or f'{len(g.ended)}/{len(g.steps)}'}")
        return parts

    def _draw(self) -> None:
        if self.live:
            steps = sum(len(g.steps) for g in self._groups.values())
            ended = sum(len(g.ended) for g in self._groups.values())
            line = f"{self.label}  " + "  ".join(self._marks())
            line += f"   {ended}/{steps} steps, {clock(time.perf_counter() - self.started)}"
            if self._running is not None:  # a long step says which it is
                line += f"  {self.step_names.get(self._running, self._running)}"
            width = _width(self.out)
            self.out.write("\r\x1b[2K" + (line if len(line) < width else line[: width - 2] + "…"))
            self.out.flush()
            self._open = True
            return
        self._append(final=False)

    def _append(self, final: bool) -> None:
        """Append the marks of the groups that completed, in data-flow order: a group waits for those before it.
        At the end (`final`), every group left gets its mark; one with steps that never ran (after a failure
        upstream) is marked as failed or skipped."""
        for name in self.order:
            g = self._groups.get(name)
            if g is None or not g.steps or name in self._printed:
                continue
            mark = g.mark
            if mark is None and final:
                mark = FAILED if FAILED in g.ended.values() else SKIPPED
            if mark is None:
                return
            self.out.write((f"{self.label} " if not self._open else "") + f" {name} {mark}")
            self.out.flush()
            self._printed.append(name)
            self._open = True

    def say(self, message: str) -> None:
        """A line of its own while the run goes on (e.g. waiting for a pool slot); the progress line follows it."""
        self._end_line()
        self.out.write(message + "\n")
        self.out.flush()
        self._printed.clear()
        self._draw()

    def close(self) -> None:
        """End the progress line: erased on a terminal (the run's result line takes its place), else finished."""
        if not self.live and self._groups:
            self._append(final=True)
        self._end_line()

    def _end_line(self) -> None:
        if self._open:
            self.out.write("\r\x1b[2K" if self.live else "\n")
            self.out.flush()
            self._open = False


def _width(out: TextIO) -> int:
    try:
        return os.get_terminal_size(out.fileno()).columns
    except (OSError, ValueError, AttributeError):
        return 160


def is_live(out: TextIO) -> bool:
    """Redraw lines in place only on a terminal that understands it."""
    return hasattr(out, "isatty") and out.isatty() and os.environ.get("TERM", "") != "dumb"


@dataclass
class WarningTally:
    """Warn-only checks that did not pass, by check, with the runs they fired in: said once, with counts, at the
    end of a sequence of runs instead of a line per run and check."""

    runs: int = 0
    fired: dict[str, list[tuple[int, str]]] = field(default_factory=lambda: defaultdict(list))  # (run no., month)

    def add(self, month: str, checks: Iterable[str]) -> None:
        self.runs += 1
        for check in checks:
            self.fired[check].append((self.runs, month))

    def lines(self) -> list[str]:
        if not self.fired:
            return [f"warnings: none in {self.runs} run{'s' * (self.runs != 1)}"]
        with_any = len({n for runs in self.fired.values() for n, _ in runs})
        out = [
            f"routine warnings (checks that warn and never block; each run's results in the Dagster UI): "
            f"{len(self.fired)} kind{'s' * (len(self.fired) != 1)} in {with_any} of {self.runs} runs"
        ]
        width = max(len(check) for check in self.fired)
        for check, runs in sorted(self.fired.items(), key=lambda kv: (-len(kv[1]), kv[0])):
            months = sorted({m for _, m in runs})
            span = months[0] if len(months) == 1 else f"{months[0]} … {months[-1]}"
            out.append(f"  {check:<{width}} in {len(runs):>2} run{'s' * (len(runs) != 1)} ({span})")
        return out


class StageClock:
    """The wall time of each named stage, and the total since the clock started."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.stages: list[tuple[str, float]] = []

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.stages.append((name, time.perf_counter() - t0))

    def lines(self, slowest: Sequence[tuple[str, float]] = ()) -> list[str]:
        total = time.perf_counter() - self.started
        out = [f"== time: {clock(total)} in all"]
        out += [f"  {name:<40} {clock(seconds):>12}" for name, seconds in self.stages]
        if slowest:
            out.append("  slowest steps (mean per run): " + ", ".join(f"{s} {clock(t)}" for s, t in slowest))
        return out


def slowest_steps(runs: Iterable[Mapping[str, float]], n: int = 3) -> list[tuple[str, float]]:
    """The n steps with the largest mean duration over the runs that executed them."""
    total: Counter[str] = Counter()
    count: Counter[str] = Counter()
    for durations in runs:
        for step, seconds in durations.items():
            total[step] += seconds
            count[step] += 1
    means = {step: total[step] / count[step] for step in total}
    return sorted(means.items(), key=lambda kv: -kv[1])[:n]


class Session:
    """What one command's in-process runs share: the console, the log file, the warnings tally and step times."""

    def __init__(
        self, defs: dg.Definitions, order: Sequence[str], log_path: Path, out: TextIO, heads: bool = True
    ) -> None:
        self.defs = defs
        self.groups = {spec.key: spec.group_name or "default" for spec in defs.resolve_all_asset_specs()}
        self.order = list(order)
        self.out = out
        self.live = is_live(out)
        self.log = RunLog(log_path)
        self.heads = heads  # say the publish log's head after each run
        self.tally = WarningTally()
        # A sequence of runs names its routine warnings once, in the tally; a single run names them on its line.
        self.warnings_per_run = True
        self.step_times: list[dict[str, float]] = []  # per run: step (as the UI names it) -> seconds
        self.failed_runs = 0

    def progress(self, label: str) -> StepProgress:
        self.log.note(f"{label}: run starts")
        return StepProgress(label, self.groups, self.order, self.out, self.live, self.log)

    def finished(self, run: StepProgress, success: bool) -> None:
        run.close()
        self.step_times.append({run.step_names.get(s, s): t for s, t in run.durations.items()})
        self.failed_runs += not success

    def slowest(self, n: int = 3) -> list[tuple[str, float]]:
        return slowest_steps(self.step_times, n)

    def close(self) -> None:
        self.log.close()
