"""Benchmark: the month's feedback-loop steps at full city scale (预警、触发队列、模型监测、一公开、发布).

    python bench/bench_monitoring.py [--enterprises 700000] [--months 24] [--workdir DIR]
    cp -a MODEL_WORKDIR COPY && python bench/bench_monitoring.py --workdir COPY   # reuse a prepared city

A child process prepares the city (not timed): it generates it unless DIR/landing exists, ingests every month
of every contract source not yet ingested, builds the features of every month that lacks them, and the tiers
of the last three months M-2, M-1 and M unless they exist (the registry's champion serving the month, or the
scorecard at cold start: scoring.build_tiers, as bench_sampling.py does). The tier-jump warning and the tier mix
compare M with M-1; the latest inspection results are matched with the tier held the month before. Point
--workdir at a COPY of a kept city: this benchmark replaces month M in monitoring.early_warnings,
sampling.trigger_queue, monitoring.model_monitoring, publicity.inspection_results and month M's one-public batches,
records audits and empties audit.publish_log (its mart is a fresh temporary directory, so entries of an earlier
mart could not verify).

Then this process times, for month M, one after the other:

- early warnings: `early_warning.build_early_warnings(conn, M, early_warning.load_rules())` (every enabled
  rule's SQL, month replaced in one transaction) and its blocking check `early_warning.well_formed_violations`;
- the trigger queue: `plans.build_trigger_queue(conn, M)` (complaints and the A/B-tier warnings);
- model monitoring: `monitoring.build_model_monitoring(conn, M, policy, registry)` (score, indicator and
  tier-mix PSI, problem-found rate by tier) and its blocking check `monitoring.ordering`;
- the one-public batches: `publicity.publish_batches(conn, M, exports)` into a fresh temporary exports directory
  (each inspections landing file of M published on arrival: rows with working-day deadlines, both files written,
  verified and renamed into place), then the month's record `publicity.export_month(conn, M, exports)`;
- publish of tiers.enterprise_monthly M (mart enterprise_tiers) with versions into a fresh temporary mart
  directory: the fingerprint and the required audits (`publish.record_audit`, recorded as passed, as the tests
  do), `publish.publish_month` (version 1), the same content published again (must come back unchanged, without
  writing), `publish.verify`.

The library is timed as it is: its functions are wrapped with timers at run time (nothing in lib/ changes) and
the connection it is handed times each statement it executes, so every step is split into its SQL files,
transactions and Python parts. Prints the time of each step and its split, the row counts (warnings by rule,
queue, monitoring rows, exported and late rows, published rows), the total, the load average of the machine
before and after (other work running alongside slows the figures), and the peak RSS of this process.
"""

from __future__ import annotations

import contextlib
import functools
import os
import resource
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import _city  # bench/_city.py: the shared prepared city
import duckdb

from zs_risk_pipeline.lib.core import workdays
from zs_risk_pipeline.lib.ingest.contract import sources
from zs_risk_pipeline.lib.model.registry import Registry
from zs_risk_pipeline.lib.monitoring import drift_checks, early_warnings, model_monitoring, monitoring_policy, ordering
from zs_risk_pipeline.lib.publicity import batches as publicity_batches
from zs_risk_pipeline.lib.publicity import deadlines, export, export_files, export_rules
from zs_risk_pipeline.lib.publish import catalog, log, tables, wap
from zs_risk_pipeline.lib.publish import verify as publish_verify
from zs_risk_pipeline.lib.sampling import drawing, task_lists

TIER_MONTHS = 3  # M-2, M-1, M
SPEC = tables.MART_TABLES["enterprise_tiers"]


class Stopwatch:
    """Seconds per (step, part) of the wrapped library calls, in the order they ran. Only the outermost wrapped
    call is counted, so the parts of a step never overlap; what they leave is reported as other."""

    def __init__(self) -> None:
        self.seconds: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        self.totals: dict[str, float] = {}
        self.step = "-"
        self.sql_name: str | None = None  # the SQL file last loaded: the label of the statement executed next
        self._depth = 0

    def wrap(self, fn: Callable[..., Any], label: Callable[..., str] | str) -> Callable[..., Any]:
        @functools.wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:
            if self._depth:
                return fn(*args, **kwargs)
            self._depth += 1
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self._depth -= 1
                part = label(*args, **kwargs) if callable(label) else label
                self.seconds[self.step][part] += time.perf_counter() - t0

        return timed

    def naming(self, fn: Callable[..., str]) -> Callable[..., str]:
        """load_sql / render: remember the file, so the statement executed with its text is named after it."""

        @functools.wraps(fn)
        def named(name: str, *args: Any, **kwargs: Any) -> str:
            self.sql_name = name
            return fn(name, *args, **kwargs)

        return named

    def statement(self, query: Any, *args: Any, **kwargs: Any) -> str:
        words = str(query).split(None, 1)
        if words and words[0].upper() in ("BEGIN", "COMMIT", "ROLLBACK"):
            return f"{words[0].upper()} (SQL)"
        name, self.sql_name = self.sql_name, None
        return _sql_name(None, name) if name else "statement not from a file (SQL)"

    def run(self, step: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        self.step = step
        t0 = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            self.totals[step] = time.perf_counter() - t0
            self.step = "-"


class TimedConnection:
    """The warehouse connection as the library sees it, timing every statement it executes (the rest is the
    connection itself)."""

    def __init__(self, conn: duckdb.DuckDBPyConnection, watch: Stopwatch) -> None:
        self._conn = conn
        self.execute = watch.wrap(conn.execute, watch.statement)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


def _sql_name(conn: Any, name: str, *args: Any, **kwargs: Any) -> str:
    return name.rsplit("/", 1)[-1].replace(".sql", "") + " (SQL)"


@contextlib.contextmanager
def _timed_library(watch: Stopwatch) -> Iterator[None]:
    """Timers around the library calls of the steps; the originals are restored on exit."""
    calendar = "working-day calendar (workdays)"
    targets: list[tuple[Any, str, Callable[..., str] | str]] = [
        (monitoring_policy, "reference_month", "reference month (monitoring.reference_month)"),
        (ordering, "latest_results", "latest results read (monitoring.latest_results)"),
        (ordering, "problem_rates", "rates by tier (monitoring.problem_rates)"),
        (ordering, "tier_order", "ordering verdict (monitoring.tier_order)"),
        (ordering, "ordering", "ordering (monitoring.ordering)"),
        (drift_checks, "score_drift", "score PSI (monitoring.score_drift)"),
        (drift_checks, "indicator_drift", "indicator PSI (monitoring.indicator_drift)"),
        (drift_checks, "tier_mix", "tier mix (monitoring.tier_mix)"),
        (export_rules, "verify_files", "files re-read and checked (publicity.verify_files)"),
        (export, "sha256_file", "file hashes (publicity.sha256_file)"),
        (workdays, "add_workdays", calendar),
        (workdays, "basis_between", calendar),
        (workdays, "workdays_after_until", calendar),
        (workdays, "roll_forward", calendar),
        (tables, "fingerprint", "fingerprint (publish.fingerprint)"),
        (wap, "_audit_problems", "audits required (publish._audit_problems)"),
        (wap, "sha256_file", "file hashes (publish.sha256_file)"),
        (wap.pq, "write_table", "Parquet write (pyarrow)"),
        (wap, "_place", "current file placed (publish._place)"),
        (catalog, "build_catalog", "mart catalogue rebuilt (publish.build_catalog)"),
        (log, "_append_log", "publish log appended (publish._append_log)"),
    ]
    # every library module of the measured steps that runs SQL files: each file's time under its own name
    sql_modules = (early_warnings, drawing, task_lists, model_monitoring, monitoring_policy, ordering, export)
    sql_modules += (publicity_batches, deadlines, export_files, wap, tables, catalog, log)
    targets += [(module, "run_sql", _sql_name) for module in sql_modules if hasattr(module, "run_sql")]
    with contextlib.ExitStack() as stack:
        for module, name, label in targets:
            stack.enter_context(mock.patch.object(module, name, watch.wrap(getattr(module, name), label)))
        stack.enter_context(mock.patch.object(model_monitoring, "render", watch.naming(model_monitoring.render)))
        stack.enter_context(mock.patch.object(export, "load_sql", watch.naming(export.load_sql)))
        yield


def _split(watch: Stopwatch, step: str) -> None:
    """A step's parts (in the order they first ran) and what they leave."""
    parts = watch.seconds.get(step, {})
    for part, s in parts.items():
        print(f"      {part:64s}{s:8.2f} s")
    if parts:
        print(
            f"      {'other (Python between the timed calls: frames, CSV writes, …)':64s}"
            f"{watch.totals[step] - sum(parts.values()):8.2f} s"
        )


def _measure(root: Path) -> float:
    """Time the feedback-loop steps for the last month of the prepared warehouse; the total in seconds."""
    raw = _city.connect(root / "warehouse.duckdb")
    month = raw.execute("SELECT strftime(max(month), '%Y-%m') FROM features.enterprise_monthly").fetchall()[0][0]
    tiered = dict(
        raw.execute(
            "SELECT strftime(month, '%Y-%m'), count(*) FROM tiers.enterprise_monthly GROUP BY ALL ORDER BY ALL"
        ).fetchall()
    )
    wanted = [
        m
        for (m,) in raw.execute(
            "SELECT DISTINCT strftime(month, '%Y-%m') AS m FROM features.enterprise_monthly ORDER BY m DESC LIMIT ?",
            [TIER_MONTHS],
        ).fetchall()
    ][::-1]
    staged = raw.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'staging'").fetchall()
    missing = sorted(set(sources()) - {t for (t,) in staged})
    if missing or any(m not in tiered for m in wanted):
        raise SystemExit(f"{root}: staging lacks {missing} or tiers of {wanted} are missing: prepare again")
    threads = raw.execute("SELECT current_setting('threads')").fetchall()[0][0]
    print(
        f"month M {month}: tiered enterprises "
        + ", ".join(f"{m} {tiered[m]:,}" for m in wanted)
        + f"; DuckDB threads {threads}"
    )
    tables.prepare(raw)
    dropped = raw.execute("SELECT count(*) FROM audit.publish_log").fetchall()[0][0]
    raw.execute("DELETE FROM audit.publish_log").fetchall()  # the entries of an earlier (deleted) mart
    if dropped:
        print(f"emptied audit.publish_log ({dropped} entries of an earlier mart)")
    batches = "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'publicity' AND table_name = 'result_batches'"
    if raw.execute(batches).fetchall()[0][0]:  # batches of an earlier run: their files went with its exports
        for table in ("result_batches", "result_batch_rows"):
            raw.execute(f"DELETE FROM publicity.{table} WHERE month = ?", [f"{month}-01"]).fetchall()
    rules, policy = early_warnings.load_rules(), monitoring_policy.load_policy()
    registry = Registry(root / "models")
    watch = Stopwatch()
    conn: Any = TimedConnection(raw, watch)

    # The top-level calls are the originals, taken before the timers go in: their inner calls are the parts.
    build_warnings, warning_check = early_warnings.build_early_warnings, early_warnings.well_formed_violations
    build_queue, build_monitoring = task_lists.build_trigger_queue, model_monitoring.build_model_monitoring
    order_check, export_month = ordering.ordering, export.export_month
    publish_batches = publicity_batches.publish_batches
    fingerprint, record_audit = tables.fingerprint, wap.record_audit
    publish_month, verify = wap.publish_month, publish_verify.verify

    def audits() -> tables.Fingerprint:
        fp = fingerprint(conn, SPEC, month)
        for check in SPEC.required_checks:
            record_audit(conn, SPEC, month, check, fp, True, {"benchmark": "recorded as passed"})
        return fp

    load0 = os.getloadavg()
    with (
        tempfile.TemporaryDirectory(prefix="zs-exports-") as exports,
        tempfile.TemporaryDirectory(prefix="zs-mart-") as mart_dir,
        _timed_library(watch),
    ):
        mart = Path(mart_dir)
        steps = [
            ("early warnings (early_warning.build_early_warnings)", build_warnings, conn, month, rules),
            ("well-formed check (early_warning.well_formed_violations)", warning_check, conn, month),
            ("trigger queue (plans.build_trigger_queue)", build_queue, conn, month),
            ("model monitoring (monitoring.build_model_monitoring)", build_monitoring, conn, month, policy, registry),
            ("tier-order check (monitoring.ordering)", order_check, conn, month, policy),
            ("one-public batches (publicity.publish_batches)", publish_batches, conn, month, Path(exports)),
            ("one-public export (publicity.export_month)", export_month, conn, month, Path(exports)),
            ("fingerprint and audits (publish.fingerprint, record_audit)", audits),
            ("publish tiers (publish.publish_month)", publish_month, conn, SPEC, month, mart),
            ("publish again, unchanged (publish.publish_month)", publish_month, conn, SPEC, month, mart),
            ("verify mart and log (publish.verify)", verify, conn, mart),
        ]
        print(f"\nfeedback loop {month}, step by step:", flush=True)
        out = {}
        for name, fn, *args in steps:  # each step printed when done: a failing step still shows the ones before
            out[name] = watch.run(name, fn, *args)
            print(f"  {name:68s}{watch.totals[name]:8.2f} s")
            _split(watch, name)
            sys.stdout.flush()
        sizes = {Path(p).name: Path(p).stat().st_size for p in out[steps[6][0]].files}
        parquet = out[steps[8][0]].file.stat().st_size
    load1 = os.getloadavg()
    warnings, violations, queued, monitored, (rates, verdict, funnel), batches, exported, fp, first, again, problems = (
        out[name] for name, *_ in steps
    )

    print(
        f"\nearly warnings {month}: {sum(n for n, _ in warnings.values()):,} warnings, "
        f"{sum(q for _, q in warnings.values()):,} to the trigger queue; well-formed violations {len(violations):,}"
    )
    for (rule, severity), (n, q) in warnings.items():
        print(f"    {rule:26s} {severity:6s} {n:9,}  (to trigger queue {q:,})")
    for v in violations[:5]:
        print(f"    violation: {v}")
    print(f"trigger queue {month}: " + ", ".join(f"tier {t} {n:,} enterprises" for t, n in queued.items()))
    print(
        f"model monitoring {month}: {monitored['rows']:,} rows; reference {monitored['reference_month']} "
        f"({monitored['reference_why']}); verdict {monitored['verdict']}"
    )
    print(
        f"tier-order check: {verdict.status} on {funnel['random_inspections']:,} random inspections "
        f"({funnel['window']}); "
        + ", ".join(
            f"{r.tier} {r.rate:.3f} (n {r.inspections:,})"
            if r.rate is not None
            else f"{r.tier} n/a (n {r.inspections:,})"
            for r in rates
        )
    )
    print(
        f"one-public export {month}: {exported.rows:,} rows, {exported.late:,} late; published on arrival in "
        f"{len(batches.published)} batches ({exported.first_published} … {exported.last_published}); files "
        + ", ".join(f"{n} {s / 2**20:.1f} MB" for n, s in sizes.items())
    )
    print(
        f"publish {SPEC.name} {month}: {first.rows:,} rows as version {first.version} "
        f"(unchanged {first.unchanged}), Parquet {parquet / 2**20:.1f} MB; fingerprint of {fp.rows:,} rows; "
        f"again: version {again.version}, unchanged {again.unchanged}; verify: {len(problems)} problems"
    )
    for p in problems[:5]:
        print(f"    verify: {p}")
    if first.unchanged or not again.unchanged or again.version != first.version or problems:
        print("    UNEXPECTED: the first publish must write version 1, the second nothing, and verify find nothing")

    total = sum(watch.totals.values())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"\ntotal {month}: {total:.2f} s; peak RSS {peak:,.0f} MB; load average (1, 5, 15 min) before "
        f"{load0[0]:.2f} {load0[1]:.2f} {load0[2]:.2f}, after {load1[0]:.2f} {load1[1]:.2f} {load1[2]:.2f} "
        f"on {os.cpu_count()} cores"
    )
    raw.close()
    return total


if __name__ == "__main__":
    _city.run(__doc__, _measure, tier_months=TIER_MONTHS)
