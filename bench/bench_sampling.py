"""Benchmark: the month's sampling frames, draw and inspector assignment at full city scale (双随机抽查).

    python bench/bench_sampling.py [--enterprises 700000] [--months 24] [--workdir DIR]
    cp -a MODEL_WORKDIR COPY && python bench/bench_sampling.py --workdir COPY   # reuse bench_model.py's city

A child process prepares the city (not timed): it generates it unless DIR/landing exists, ingests every month
of every contract source not yet ingested (the frame and the eligibility read staging.registry, licenses,
inspections, inspectors and conflicts), builds the features of every month that lacks them, and the tiers of
the last month M unless they exist (the registry's champion, or the scorecard at cold start). A warehouse kept
by bench_model.py --workdir is thus topped up with the sources it lacks: point --workdir at a COPY of it,
since this benchmark writes sampling.frame, sampling.plan and sampling.commitments into the warehouse.

Then this process drops sampling.plan and sampling.commitments (a plan already drawn is reloaded, not drawn
again, and would also leave its enterprises out of a rebuilt frame) and times, for month M:

- `sampling.build_frames(conn, sampling.load_plans(), M)`: the frames of every configured plan;
- `plans.draw_month(conn, sampling.load_plans(), M, packages_dir)` with a fresh temporary packages_dir:
  per active plan the seed commitment, the selection (draw protocol v1), inspector eligibility, the pairs
  under the workload cap, the verification package (written, verified, renamed) and sampling.plan.

Then the month's rerun after late information (计划变更): a conflict (回避) declared for the first inspector of
every 20th staffed task and one assigned inspector gone from a corrected directory snapshot, both delivered
into M; timed: the frames rebuilt (published plans keep theirs), `plans.draw_month` again (each package
verified, the facts found and cross-checked, the amendments recorded and verified, sampling.plan reloaded) and
`plans.audit_month` (the blocking check's audits).

The library is timed as it is: its functions are wrapped with timers at run time (nothing in lib/ changes),
so the split of every step into SQL file, selection, eligibility, assignment, package write (and the
verification inside it), and reload into sampling.plan comes from the very calls being timed. Prints the
time of each step, the total, the frame rows and tasks drawn/assigned per plan, and the peak RSS of this
process. Target (issue 5): frames + draw + assignment <= 10 s on 2 cores for the 700,000-entity city.
"""

from __future__ import annotations

import contextlib
import functools
import resource
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import _city  # bench/_city.py: the shared prepared city

from zs_risk_pipeline.lib.core.month import Month
from zs_risk_pipeline.lib.ingest.contract import sources
from zs_risk_pipeline.lib.sampling import drawing, eligibility, frames, package, plan_audit, plan_policy, protocol

TARGET_S = 10.0


class Stopwatch:
    """Seconds per (plan, step) of wrapped library functions, in the order they ran."""

    def __init__(self) -> None:
        self.seconds: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        self.plan = "-"

    def wrap(self, fn: Callable[..., Any], label: Callable[..., str] | str) -> Callable[..., Any]:
        @functools.wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                step = label(*args, **kwargs) if callable(label) else label
                self.seconds[self.plan][step] += time.perf_counter() - t0

        return timed

    def wrap_plan(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """plans.draw_plan: the plan whose steps the following calls are."""

        @functools.wraps(fn)
        def timed(conn: Any, plan: plan_policy.SamplingPlan, month: str, *args: Any, **kwargs: Any) -> Any:
            self.plan = frames.plan_id(plan, month)
            t0 = time.perf_counter()
            try:
                return fn(conn, plan, month, *args, **kwargs)
            finally:
                self.seconds[self.plan]["total"] += time.perf_counter() - t0
                self.plan = "-"

        return timed


VERIFY = "verify (draw.verify_package)"
WRITE = "package write incl. verify (draw.write_package)"
RELOAD = "reload into sampling.plan (plans._load_package)"
REPLACE = "sampling.plan#replace_plan (SQL)"
NESTED = {VERIFY: WRITE, REPLACE: RELOAD}  # step → the wrapped step it runs inside


def _sql_name(conn: Any, name: str, *args: Any, **kwargs: Any) -> str:
    return name.rsplit("/", 1)[-1].replace(".sql", "") + " (SQL)"


@contextlib.contextmanager
def _timed_library(watch: Stopwatch) -> Iterator[None]:
    """Timers around the library calls of build_frames and draw_plan; the originals are restored on exit."""
    targets: list[tuple[Any, str, Callable[..., str] | str]] = [
        (frames, "run_sql", _sql_name),
        (drawing, "run_sql", _sql_name),
        (protocol, "draw", "selection (draw.draw)"),
        (eligibility, "eligibility", "eligibility (eligibility.eligibility)"),
        (protocol, "assign", "assignment (draw.assign)"),
        (protocol, "new_plan", "plan.json (draw.new_plan)"),
        (package, "write_package", WRITE),
        (package, "verify_package", VERIFY),
        (drawing, "_load_package", RELOAD),
        (drawing, "_summary", "summary from the package (plans._summary)"),
    ]
    with contextlib.ExitStack() as stack:
        for module, name, label in targets:
            stack.enter_context(mock.patch.object(module, name, watch.wrap(getattr(module, name), label)))
        stack.enter_context(mock.patch.object(drawing, "draw_plan", watch.wrap_plan(drawing.draw_plan)))
        yield


def _steps(columns: dict[str, dict[str, float]], totals: dict[str, float]) -> None:
    """Seconds per step (rows, in the order they first ran) and column; a nested step under its parent."""
    top: list[str] = []
    for seconds in columns.values():
        top += [step for step in seconds if step not in ("total", *NESTED, *top)]
    print(f"    {'step':54s}" + "".join(f"{name:>14s}" for name in columns))

    def row(label: str, values: list[float]) -> None:
        print(f"    {label:54s}" + "".join(f"{v:12.2f} s" for v in values))

    for step in top:
        row(step, [seconds.get(step, 0.0) for seconds in columns.values()])
        for inner, parent in NESTED.items():
            if parent == step and any(inner in seconds for seconds in columns.values()):
                row(f"  of which {inner}", [seconds.get(inner, 0.0) for seconds in columns.values()])
    other = [totals[name] - sum(seconds.get(step, 0.0) for step in top) for name, seconds in columns.items()]
    row("other (Python between the timed calls, BEGIN/COMMIT)", other)
    row("total", list(totals.values()))


def _measure(root: Path) -> float:
    """Time build_frames and draw_month for the last month of the prepared warehouse; the total in seconds."""
    conn = _city.connect(root / "warehouse.duckdb")
    month = conn.execute("SELECT strftime(max(month), '%Y-%m') FROM features.enterprise_monthly").fetchall()[0][0]
    tiered = conn.execute(
        "SELECT count(*) FROM tiers.enterprise_monthly WHERE month = ?", [Month.of(month).start]
    ).fetchall()[0][0]
    staged = conn.execute(
        "SELECT table_name, estimated_size FROM duckdb_tables() WHERE schema_name = 'staging' ORDER BY table_name"
    ).fetchall()
    missing = sorted(set(sources()) - {t for t, _ in staged})
    if missing or not tiered:
        raise SystemExit(f"{root}: staging lacks {missing} or tiers of {month} are missing: prepare again")
    threads = conn.execute("SELECT current_setting('threads')").fetchall()[0][0]
    print(f"month M {month}: {tiered:,} tiered enterprises; DuckDB threads {threads}")
    print("staging rows: " + ", ".join(f"{t} {n:,}" for t, n in staged))
    conn.execute("DROP TABLE IF EXISTS sampling.plan").fetchall()
    conn.execute("DROP TABLE IF EXISTS sampling.commitments").fetchall()
    configured = plan_policy.load_plans()

    frames_watch, draw_watch = Stopwatch(), Stopwatch()
    with _timed_library(frames_watch):
        t0 = time.perf_counter()
        written = frames.build_frames(conn, configured, month)
        frames_s = time.perf_counter() - t0
    active = {p.id for p in frames.plans_active(configured, month)}
    print(f"\nbuild_frames {month}: {sum(written.values()):,} frame rows in {frames_s:.2f} s")
    for p in configured:
        print(f"    {frames.plan_id(p, month):24s} {written[p.id]:9,} rows{'' if p.id in active else ' (inactive)'}")
    _steps({"all plans": frames_watch.seconds["-"]}, {"all plans": frames_s})

    packages_dir = tempfile.TemporaryDirectory(prefix="zs-plans-")
    packages = Path(packages_dir.name)
    with _timed_library(draw_watch):
        t0 = time.perf_counter()
        drawn = drawing.draw_month(conn, configured, month, packages)
        draw_s = time.perf_counter() - t0
        sizes = {d.plan_id: sum(f.stat().st_size for f in d.package.iterdir()) for d in drawn}
    print(f"\ndraw_month {month}: {len(drawn)} plans drawn in {draw_s:.2f} s")
    for d in drawn:
        if not d.drawn_now:
            raise SystemExit(f"{d.plan_id} was reloaded, not drawn: the timing would not be a draw")
        print(
            f"    {d.plan_id:24s} frame {d.frame:9,}, drawn {d.selected:7,}, assigned {d.assigned:7,}, "
            f"unassigned {d.selected - d.assigned:6,}; candidate pairs {d.eligibility['candidates']:12,}, "
            f"eligible {d.eligibility['eligible']:9,}; package {sizes[d.plan_id] / 2**20:5.1f} MB"
        )
        for reason, n in d.unassigned.items():
            print(f"        unassigned: {reason}: {n:,}")
    columns = {
        d.plan_id.removesuffix(f"-{frames.plan_month(month):%Y-%m}"): draw_watch.seconds[d.plan_id] for d in drawn
    }
    steps: dict[str, float] = defaultdict(float)
    for seconds in columns.values():
        for step, s in seconds.items():
            steps[step] += s
    columns["all plans"] = steps
    _steps(columns, {name: seconds["total"] for name, seconds in columns.items()} | {"all plans": draw_s})

    total = frames_s + draw_s
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    verdict = "within" if total <= TARGET_S else "ABOVE"
    print(
        f"\ntotal {month}: frames {frames_s:.2f} s + draw and assignment {draw_s:.2f} s = {total:.2f} s "
        f"({verdict} the {TARGET_S:.0f} s target); peak RSS {peak:,.0f} MB"
    )
    _rerun_after_late_information(conn, configured, month, packages)
    packages_dir.cleanup()
    conn.close()
    return total


def _rerun_after_late_information(conn: Any, configured: list, month: str, packages: Path) -> None:
    """The month rerun after late conflicts and a departure reached it: frames, reload with amendments, audits."""
    m = Month.of(month).start
    conn.execute(
        "INSERT INTO staging.conflicts SELECT inspector_1, uscc, 'bench', ?, ?, 'conflicts/bench_late.csv', 'bench', "
        "task_no, task_no + 1 FROM sampling.plan WHERE inspector_1 IS NOT NULL AND task_no % 20 = 1",
        [m, m],
    ).fetchall()
    leaver = conn.execute(
        "SELECT inspector_2 FROM sampling.plan WHERE inspector_2 IS NOT NULL GROUP BY ALL ORDER BY count(*) DESC, 1 "
        "LIMIT 1"
    ).fetchall()[0][0]
    snapshot = "(SELECT max(_delivery_month) FROM staging.inspectors WHERE _delivery_month <= ?)"
    conn.execute(
        "INSERT INTO staging.inspectors SELECT * REPLACE ('inspectors/zz_bench_correction.csv' AS _source_file) "
        f"FROM staging.inspectors WHERE _delivery_month = {snapshot} AND inspector_id <> ? "
        f"QUALIFY row_number() OVER (PARTITION BY inspector_id ORDER BY _source_file DESC) = 1",
        [m, leaver],
    ).fetchall()
    t0 = time.perf_counter()
    frames.build_frames(conn, configured, month, packages)
    frames_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    rerun = drawing.draw_month(conn, configured, month, packages)
    reload_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    found = plan_audit.audit_month(conn, configured, month, packages)
    audit_s = time.perf_counter() - t0
    amended = [a for d in rerun for a in d.amended_now]
    print(
        f"\nrerun {month} after late information (conflicts on every 20th staffed task, {leaver} gone): "
        f"{len(amended):,} amendments ({sum(not a.replacement for a in amended):,} unstaffed) in "
        f"{sum(1 for d in rerun if d.amended_now)} plans"
    )
    print(
        f"    frames rebuilt {frames_s:.2f} s; draw_month (verify, facts, amend, reload) {reload_s:.2f} s; "
        f"audit_month {audit_s:.2f} s; audits {'all kept' if not any(found.values()) else found}"
    )


if __name__ == "__main__":
    _city.run(__doc__, _measure, tier_months=1)
