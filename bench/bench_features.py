"""Benchmark: the monthly feature table of the full synthetic city (企业月度特征, full scale).

    python bench/bench_features.py [--enterprises 700000] [--months 13] [--landing DIR] [--threads N]

Generates the city (unless --landing points at an existing landing folder) and ingests every month of the
sources the features read, both in a child process, so that the figures below are the feature build's own:
the seconds of build_enterprise_monthly for the last month, the rows written, and the peak resident memory
of the process that ran it. Target: <= 20 s and <= 3 GB on 2 cores.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import tempfile
import time
from pathlib import Path

import duckdb

from zs_risk_pipeline.lib import features, ingest, synth

SOURCES = (
    "registry",
    "annual_reports",
    "abnormal_list",
    "dishonest_list",
    "penalties",
    "complaints",
    "licenses",
    "inspections",
)


def _prepare(root: str, landing: str | None, enterprises: int, months: int, start: str) -> None:
    """Child process: generate the city if needed, then ingest every delivered month."""
    land = Path(landing) if landing else Path(root) / "landing"
    if landing is None:
        t0 = time.perf_counter()
        synth.generate(land, Path(root) / "truth", enterprises=enterprises, months=months, start=start, seed=20240601)
        print(f"synthetic city generated in {time.perf_counter() - t0:.1f} s", flush=True)
    t0 = time.perf_counter()
    conn = duckdb.connect(str(Path(root) / "warehouse.duckdb"))
    conn.execute("SET enable_progress_bar = false").fetchall()
    ingest.prepare(conn, b"benchmark-key-not-a-secret")
    for month in sorted(p.name for p in (land / "registry").iterdir())[:months]:
        for name in SOURCES:
            ingest.land(conn, name, month, land)
            ingest.stage(conn, name, month)
    conn.close()
    print(f"ingested in {time.perf_counter() - t0:.1f} s (not part of the figures below)", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--enterprises", type=int, default=700_000)
    ap.add_argument("--months", type=int, default=13)
    ap.add_argument("--start", default="2023-01")
    ap.add_argument("--landing", type=Path)
    ap.add_argument("--threads", type=int, help="DuckDB threads (default: DuckDB's own, one per core)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        child = mp.get_context("spawn").Process(
            target=_prepare,
            args=(tmp, str(args.landing) if args.landing else None, args.enterprises, args.months, args.start),
        )
        child.start()
        child.join()
        if child.exitcode != 0:
            raise SystemExit(f"generating or ingesting the city failed (exit code {child.exitcode})")

        conn = duckdb.connect(str(Path(tmp) / "warehouse.duckdb"))
        conn.execute("SET enable_progress_bar = false").fetchall()
        if args.threads:
            conn.execute("SET threads = $n", {"n": args.threads}).fetchall()
        threads = conn.execute("SELECT current_setting('threads')").fetchall()[0][0]
        month = conn.execute("SELECT strftime(max(_delivery_month), '%Y-%m') FROM staging.registry").fetchall()[0][0]
        sizes = conn.execute(
            "SELECT table_name, estimated_size FROM duckdb_tables() WHERE schema_name = 'staging' ORDER BY table_name"
        ).fetchall()
        print("staging rows: " + ", ".join(f"{t} {n:,}" for t, n in sizes))
        t0 = time.perf_counter()
        rows = features.build_enterprise_monthly(conn, month)
        seconds = time.perf_counter() - t0
        alive = features.alive_count(conn, month)
        conn.close()
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"features {month}: {rows:,} rows (alive enterprises {alive:,}) in {seconds:.1f} s; "
            f"peak RSS {peak:,.0f} MB; DuckDB threads {threads}, {os.cpu_count()} CPUs"
        )


if __name__ == "__main__":
    main()
