"""Benchmark of the synthetic city generator (合成中山) at full scale.

    python bench/bench_synth.py                      # 700,000 entities × 36 months into a temp folder
    python bench/bench_synth.py --enterprises 3000 --months 6 --out /some/folder

Prints wall-clock seconds, peak resident memory (ru_maxrss) and rows per source.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import zs_risk_synth as synth


def _peak_rss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports kilobytes, macOS bytes.
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--enterprises", type=int, default=700_000, help="entities in the first snapshot")
    p.add_argument("--months", type=int, default=36)
    p.add_argument("--start", default="2023-01")
    p.add_argument("--seed", type=int, default=20240601)
    p.add_argument("--defect-rate", type=float, default=0.0)
    p.add_argument("--encoding", default="utf-8", choices=["utf-8", "gb18030"])
    p.add_argument("--out", help="folder for landing/ and truth/ (default: a temporary folder, deleted)")
    args = p.parse_args(argv)

    root = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="zs-synth-bench-"))
    try:
        t0 = time.perf_counter()
        summary = synth.generate(
            root / "landing",
            root / "truth",
            enterprises=args.enterprises,
            months=args.months,
            start=args.start,
            seed=args.seed,
            encoding=args.encoding,
            defect_rate=args.defect_rate,
        )
        seconds = time.perf_counter() - t0
        size = sum(f.stat().st_size for f in (root / "landing").rglob("*") if f.is_file())
        print(f"synthetic city: {args.enterprises:,} entities x {args.months} months from {args.start}")
        print(f"seconds:        {seconds:.1f}")
        print(f"peak RSS:       {_peak_rss_mb():,.0f} MB")
        print(f"files:          {summary['files']:,} ({size / 1e6:,.0f} MB)")
        print(f"entities:       {summary['entities_total']:,} incl. later registrations")
        if args.defect_rate:
            print(f"defects:        {summary['defects']:,}")
        for name, n in summary["rows"].items():
            print(f"  {name:<16} {n:>12,} rows")
        print(f"  {'total':<16} {sum(summary['rows'].values()):>12,} rows")
    finally:
        if not args.out:
            shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
