"""Benchmark: ingest of the full synthetic city (landing → raw → staging/quarantine), month by month.

    python bench/bench_ingest.py [--enterprises 700000] [--months 3] [--landing DIR]

Generates the city first unless --landing points at an existing landing folder. Prints, per month, the
seconds to land and to stage every source, the rows, and the peak resident memory of this process.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import duckdb

import zs_risk_synth as synth
from zs_risk_pipeline.lib.ingest import staging
from zs_risk_pipeline.lib.ingest.contract import sources


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--enterprises", type=int, default=700_000)
    ap.add_argument("--months", type=int, default=3)
    ap.add_argument("--start", default="2023-01")
    ap.add_argument("--landing", type=Path)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        landing = args.landing
        if landing is None:
            landing = root / "landing"
            t0 = time.perf_counter()
            synth.generate(
                landing,
                root / "truth",
                enterprises=args.enterprises,
                months=args.months,
                start=args.start,
                seed=20240601,
            )
            print(f"synthetic city generated in {time.perf_counter() - t0:.1f} s (not part of the figures below)")
        months = sorted(p.name for p in (landing / "registry").iterdir())[: args.months]
        conn = duckdb.connect(str(root / "warehouse.duckdb"))
        staging.prepare(conn, b"benchmark-key-not-a-secret")
        total = 0.0
        for month in months:
            t_land = t_stage = 0.0
            rows = staged = 0
            for name in sources():
                t0 = time.perf_counter()
                staging.land(conn, name, month, landing)
                t1 = time.perf_counter()
                rep = staging.stage(conn, name, month)
                t2 = time.perf_counter()
                t_land += t1 - t0
                t_stage += t2 - t1
                rows += rep.raw_rows
                staged += rep.staged_rows
                assert rep.balanced, f"{name} {month} does not reconcile"
            total += t_land + t_stage
            print(f"{month}: {rows:>9,} rows ({staged:,} staged)  land {t_land:6.1f} s  stage {t_stage:6.1f} s")
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"total {total:.1f} s for {len(months)} months; peak RSS {peak:,.0f} MB")


if __name__ == "__main__":
    main()
