"""The prepared full-scale city the benchmarks share (基准测试用城市): arguments, preparation in a child
process (not timed), and the small warehouse look-ups that preparation needs.

`prepare_city` generates the city unless DIR/landing exists, ingests every month of every contract source not yet
ingested, builds the features of every month that lacks them and the tiers of the last `tier_months` months
unless they exist (the registry's champion serving the month, or the scorecard at cold start). A warehouse kept
by another benchmark's --workdir is thus topped up with what it lacks.
"""

from __future__ import annotations

import argparse
import functools
import multiprocessing as mp
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

import zs_risk_synth as synth
from zs_risk_pipeline.lib.core.month import Month
from zs_risk_pipeline.lib.features import enterprise_monthly
from zs_risk_pipeline.lib.ingest import staging
from zs_risk_pipeline.lib.ingest.contract import sources
from zs_risk_pipeline.lib.model import scorecard
from zs_risk_pipeline.lib.model.registry import Registry
from zs_risk_pipeline.lib.publish import tables
from zs_risk_pipeline.lib.tiers import classify, tier_policy

PII_KEY = b"benchmark-key-not-a-secret"  # the key of bench_model.py: a topped-up warehouse hashes alike
SEED = 20240601


def connect(path: Path) -> duckdb.DuckDBPyConnection:
    conn = duckdb.connect(str(path))
    conn.execute("SET enable_progress_bar = false").fetchall()
    return conn


def table_exists(conn: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    sql = "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?"
    return bool(conn.execute(sql, [schema, table]).fetchall()[0][0])


def has_rows(conn: duckdb.DuckDBPyConnection, schema: str, table: str, where: str, params: list[Any]) -> bool:
    if not table_exists(conn, schema, table):
        return False
    return bool(conn.execute(f"SELECT EXISTS (SELECT 1 FROM {schema}.{table} WHERE {where})", params).fetchall()[0][0])


def prepare_city(root: str, enterprises: int, months: int, start: str, tier_months: int) -> None:
    """Child process: generate the city if needed, ingest what is missing, features of every month, tiers of the
    last `tier_months` months."""
    base = Path(root)
    land = base / "landing"
    if not land.exists():
        t0 = time.perf_counter()
        synth.generate(land, base / "truth", enterprises=enterprises, months=months, start=start, seed=SEED)
        print(f"synthetic city generated in {time.perf_counter() - t0:.1f} s", flush=True)
    t0 = time.perf_counter()
    conn = connect(base / "warehouse.duckdb")
    staging.prepare(conn, PII_KEY)
    names = list(sources())
    delivered = sorted(p.name for p in (land / "registry").iterdir())[:months]
    for month in delivered:
        day = Month.of(month).start
        # A source without a delivery this month is landed only while its tables do not exist yet.
        todo = [
            n
            for n in names
            if not has_rows(conn, "raw", "landing_files", "source = ? AND delivery_month = ?", [n, day])
            and ((land / n / month).is_dir() or not table_exists(conn, "staging", n))
        ]
        for name in todo:
            staging.land(conn, name, month, land)
            staging.stage(conn, name, month)
        built = has_rows(conn, "features", "enterprise_monthly", "month = ?", [day])
        if not built:
            enterprise_monthly.build_enterprise_monthly(conn, month)
        done = f"ingested {', '.join(todo)}" if todo else "nothing to ingest"
        print(
            f"  {month}: {done}; features {'kept' if built else 'built'} ({time.perf_counter() - t0:.0f} s)",
            flush=True,
        )
    registry = Registry(base / "models")
    card, policy = scorecard.load_scorecard(), tier_policy.load_policy()
    for month in delivered[-tier_months:]:
        if has_rows(conn, "tiers", "enterprise_monthly", "month = ?", [Month.of(month).start]):
            print(f"  tiers {month}: kept", flush=True)
            continue
        population = tables.month_frame(conn, tables.MART_TABLES["enterprise_features"], month)
        summary = classify.build_tiers(conn, month, population, registry, card, policy)
        print(f"  tiers {month}: {summary['rows']:,} enterprises with {summary['model_kind']}", flush=True)
    conn.close()
    print(f"prepared in {time.perf_counter() - t0:.0f} s (not part of the figures below)", flush=True)


def run(doc: str, measure: Callable[[Path], Any], *, tier_months: int) -> None:
    """Parse the benchmark's arguments, prepare the city in a spawned child (its memory is not this process's),
    then `measure(root)` here."""
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--enterprises", type=int, default=700_000)
    ap.add_argument("--months", type=int, default=24)
    ap.add_argument("--start", default="2023-01")
    ap.add_argument("--workdir", type=Path, help="keep (or reuse, topping it up) the prepared city here")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = args.workdir or Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        target = functools.partial(prepare_city, tier_months=tier_months)
        child = mp.get_context("spawn").Process(
            target=target, args=(str(root), args.enterprises, args.months, args.start)
        )
        child.start()
        child.join()
        if child.exitcode != 0:
            raise SystemExit(f"preparing the city failed (exit code {child.exitcode})")
        measure(root)
