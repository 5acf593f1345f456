"""Benchmark: one whole month through Dagster at full city scale (整月全链路, full scale).

    python bench/bench_month.py [--enterprises 700000] [--months 14] [--home DIR]

Generates the synthetic city into a home (or reuses --home: its landing files and the months already built there),
builds the months before the last one with `zs-risk backfill`, then the last one with `zs-risk run` in a process of
its own, as an operator runs it: every asset and check of the monthly chain, through Dagster, on the home's instance.
Prints for that month:
- the run's time inside Dagster, the process's wall time and its peak resident memory;
- seconds per stage (the chain's groups), the time outside the steps (run start, planned events, run end), the
  slowest steps and the model that served the month (Dagster's fixed cost per step: bench_dagster_steps.py);
- the floor, measured in the same run: DuckDB materialising every landing row delivered up to that month once
  (all text, no judging), and the month's time as a multiple of it.
Goal for a month served by LightGBM (the demo city promotes its first model in month 14): <= 30 s, <= 4 GB on
2 cores, <= 15x the floor. The keys are the demo's throw-away ones; nothing is kept unless --home is given.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import duckdb

from zs_risk_pipeline.lib.core.month import Month

DEFAULT_START = "2023-01"


def _month_after(month: str, n: int) -> str:
    return Month.of(month).shift(n).label


def _cli(home: Path, argv: list[str]) -> int:
    from zs_risk_pipeline import cli

    return cli.main(["--home", str(home), *argv])


def _measured_month(home: str, month: str, out: mp.Queue) -> None:
    """Child process: `zs-risk run --month M`, and this process's own wall time and peak memory."""
    t0 = time.perf_counter()
    code = _cli(Path(home), ["run", "--month", month])
    out.put((code, time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))


def _in_child(target: Callable[..., None], *args: object) -> None:
    child = mp.get_context("spawn").Process(target=target, args=args)
    child.start()
    child.join()
    if child.exitcode != 0:
        raise SystemExit(f"{target.__name__} failed (exit code {child.exitcode})")


def _synth(home: str, enterprises: int, months: int, start: str) -> None:
    if _cli(Path(home), ["synth", "--enterprises", str(enterprises), "--months", str(months), "--start", start]):
        raise SystemExit(1)


def _backfill(home: str, first: str, last: str) -> None:
    if _cli(Path(home), ["backfill", "--from", first, "--to", last]):
        raise SystemExit(1)


def _built(home: Path) -> set[str]:
    """Months whose tiers the home has already built (a reused home's earlier months are not rebuilt)."""
    if not (home / "dagster_home" / "dagster.yaml").exists():
        return set()
    import dagster as dg

    os.environ["DAGSTER_HOME"] = str(home / "dagster_home")
    with dg.DagsterInstance.get() as instance:
        return {k[:7] for k in instance.get_materialized_partitions(dg.AssetKey(["tiers", "enterprise_monthly"]))}


def _stages(home: Path) -> tuple[dict[str, float], float, float, int, list[tuple[str, float]], str]:
    """The last run's seconds per group, its time in Dagster, time outside steps, step count, slowest steps and
    the serving model, from the home's own run history."""
    import dagster as dg

    from zs_risk_pipeline.definitions import build_defs

    os.environ["DAGSTER_HOME"] = str(home / "dagster_home")
    groups = {spec.key: spec.group_name or "default" for spec in build_defs().resolve_all_asset_specs()}
    with dg.DagsterInstance.get() as instance:
        run = instance.get_runs(limit=1)[0]
        logs = instance.all_logs(run.run_id)
    step_group: dict[str, str] = {}
    started: dict[str, float] = {}
    seconds: dict[str, float] = {}
    model = ""
    for entry in logs:
        ev = entry.dagster_event
        if ev is None or entry.step_key is None:
            continue
        step = entry.step_key
        if ev.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED and ev.asset_key is not None:
            step_group.setdefault(step, groups.get(ev.asset_key, ev.asset_key.path[0]))
        elif ev.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION_PLANNED:
            key = ev.event_specific_data.asset_key
            step_group.setdefault(step, groups.get(key, key.path[0]))
        elif ev.event_type == dg.DagsterEventType.STEP_START:
            started[step] = entry.timestamp
        elif ev.event_type in (dg.DagsterEventType.STEP_SUCCESS, dg.DagsterEventType.STEP_FAILURE):
            seconds[step] = entry.timestamp - started.pop(step, entry.timestamp)
        elif ev.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION and ev.asset_key == dg.AssetKey(
            ["model", "risk_model"]
        ):
            md = ev.event_specific_data.materialization.metadata
            model = f"{md['status'].value}, serving {md['champion_after'].value}"
    by_group: dict[str, float] = defaultdict(float)
    for step, s in seconds.items():
        by_group[step_group.get(step, "other")] += s
    total = logs[-1].timestamp - logs[0].timestamp
    slowest = sorted(seconds.items(), key=lambda kv: -kv[1])[:6]
    return dict(by_group), total, total - sum(seconds.values()), len(seconds), slowest, model


def _floor(landing: Path, last: str) -> tuple[float, int]:
    """Seconds for DuckDB to materialise every landing row delivered up to `last` once, and the rows."""
    from zs_risk_pipeline.lib.ingest.contract import sources

    files = {  # by the contract's source names, which are safe as table names
        source: [str(f) for f in sorted(landing.glob(f"{source}/*/*.csv")) if f.parent.name <= last]
        for source in sources()
    }
    conn = duckdb.connect()
    conn.execute("SET enable_progress_bar = false")
    rows = 0
    t0 = time.perf_counter()
    for source, paths in sorted((s, p) for s, p in files.items() if p):
        conn.execute(
            f"CREATE TABLE {source} AS SELECT * FROM read_csv($files, all_varchar = true, union_by_name = true)",
            {"files": paths},
        )
        rows += conn.execute(f"SELECT count(*) FROM {source}").fetchone()[0]
    seconds = time.perf_counter() - t0
    conn.close()
    return seconds, rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--enterprises", type=int, default=700_000)
    ap.add_argument("--months", type=int, default=14, help="months of the city; the last one is measured")
    ap.add_argument("--start", default=DEFAULT_START)
    ap.add_argument("--home", type=Path, help="a home to build in and keep (reused if it has landing files)")
    args = ap.parse_args()

    from zs_risk_pipeline.cli import common
    from zs_risk_pipeline.lib.core import settings
    from zs_risk_pipeline.lib.evidence import signing

    os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    with tempfile.TemporaryDirectory(prefix="bench-month-") as tmp:
        home = (args.home or Path(tmp) / "home").resolve()
        home.mkdir(parents=True, exist_ok=True)
        # The demo's throw-away keys, kept with the home (the signing key beside it), so a reused home verifies.
        os.environ[settings.PII_KEY_ENV] = common.demo_key(settings.Paths(home))
        os.environ[signing.SIGNING_KEY_ENV] = common.demo_signing_key(settings.Paths(home))
        last = _month_after(args.start, args.months - 1)
        if not any((home / "landing").glob("*/*/*.csv")):
            t0 = time.perf_counter()
            _in_child(_synth, str(home), args.enterprises, args.months, args.start)
            took = time.perf_counter() - t0
            print(f"synthetic city: {args.enterprises:,} entities x {args.months} months in {took:.0f} s")
        before = [_month_after(args.start, i) for i in range(args.months - 1)]
        todo = [m for m in before if m not in _built(home)]
        if todo:
            t0 = time.perf_counter()
            _in_child(_backfill, str(home), todo[0], todo[-1])
            print(f"months {todo[0]} … {todo[-1]} built in {time.perf_counter() - t0:.0f} s")

        queue: mp.Queue = mp.get_context("spawn").Queue()
        child = mp.get_context("spawn").Process(target=_measured_month, args=(str(home), last, queue))
        child.start()
        child.join()  # the result is three numbers: nothing left in the queue can hold the child up
        if child.exitcode != 0:
            raise SystemExit(f"the measured month's process died (exit code {child.exitcode})")
        code, wall, peak_mb = queue.get(timeout=60)
        if code != 0:
            raise SystemExit(f"zs-risk run --month {last} failed ({code}); its log: {home / 'logs' / 'run.log'}")
        stages, in_dagster, outside, steps, slowest, model = _stages(home)
        floor, rows = _floor(home / "landing", last)

        print(
            f"\nmonth {last}: {in_dagster:.1f} s inside Dagster ({wall:.1f} s for the process), peak {peak_mb:,.0f} MB"
        )
        print(f"  model: {model}")
        print("  stages: " + ", ".join(f"{g} {s:.1f} s" for g, s in sorted(stages.items(), key=lambda kv: -kv[1])))
        print(f"  {steps} steps; {outside:.1f} s outside them (run start, planned events, run end)")
        print("  slowest steps: " + ", ".join(f"{k} {s:.1f} s" for k, s in slowest))
        print(f"floor: DuckDB materialises the {rows:,} landing rows delivered up to {last} in {floor:.1f} s")
        print(f"the month costs {in_dagster / floor:.1f}x the floor (goal <= 15x; <= 30 s, <= 4 GB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
