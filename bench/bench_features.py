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

import zs_risk_synth as synth
from zs_risk_pipeline.lib.features import enterprise_monthly
from zs_risk_pipeline.lib.ingest import staging
from zs_risk_pipeline.lib.publish import tables


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
    staging.prepare(conn, b"benchmark-key-not-a-secret")
    for month in sorted(p.name for p in (land / "registry").iterdir())[:months]:
        for name in enterprise_monthly.SOURCES:
            staging.land(conn, name, month, land)
            staging.stage(conn, name, month)
    conn.close()
    print(f"ingested in {time.perf_counter() - t0:.1f} s (not part of the figures below)", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--enterprises", type=int, default=700_000)
    ap.add_argument("--months", type=int, default=13)
    ap.add_argument("--start", default="2023-01")
    ap.add_argument("--landing", type=Path)
    ap.add_argument("--threads", type=int, help="DuckDB threads (default: DuckDB's own, one per core)")
    ap.add_argument("--audit", action="store_true", help="also time the checks and the publish of that month")
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
        rows = enterprise_monthly.build_enterprise_monthly(conn, month)
        seconds = time.perf_counter() - t0
        alive = enterprise_monthly.alive_count(conn, month)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"features {month}: {rows:,} rows (alive enterprises {alive:,}) in {seconds:.1f} s; "
            f"peak RSS {peak:,.0f} MB; DuckDB threads {threads}, {os.cpu_count()} CPUs"
        )
        if args.audit:
            _audit_and_publish(conn, month, Path(tmp) / "mart")
        conn.close()


def _audit_and_publish(conn: duckdb.DuckDBPyConnection, month: str, mart: Path) -> None:
    """The write-audit-publish steps that follow the build, timed one by one (same calls as the checks)."""
    from zs_risk_pipeline.lib.features.suite import features_suite
    from zs_risk_pipeline.lib.publish import wap
    from zs_risk_pipeline.lib.quality import gates

    spec = tables.MART_TABLES["enterprise_features"]
    tables.prepare(conn)
    t0 = time.perf_counter()
    fp = tables.fingerprint(conn, spec, month)
    t1 = time.perf_counter()
    result = gates.run_suite(
        tables.month_frame(conn, spec, month), "features_quality_suite", features_suite(enterprise_monthly.indicators())
    )
    t2 = time.perf_counter()
    for check in spec.required_checks:
        wap.record_audit(conn, spec, month, check, fp, result.passed, {})
    wap.publish_month(conn, spec, month, mart)
    t3 = time.perf_counter()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"audit and publish: fingerprint {t1 - t0:.1f} s, Great Expectations suite ({result.evaluated} "
        f"expectations, passed={result.passed}) {t2 - t1:.1f} s incl. import, publish {t3 - t2:.1f} s; "
        f"peak RSS {peak:,.0f} MB"
    )


if __name__ == "__main__":
    main()
