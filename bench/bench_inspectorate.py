"""Benchmark: the simulated inspectorate carrying out one month of zs-risk's plans at full city scale (模拟执法检查).

    python bench/bench_month.py --months 17 --home DIR      # builds a 700,000-entity home month by month
    python bench/bench_inspectorate.py --home DIR [--month YYYY-MM] [--months 17]

Reads the home's published plan packages of plan month M+1 (default: the latest), its warehouse (the trigger
queue of M) and inspector directory, and the city's hidden truth. A home generated before the truth held the
world file (ground_truth/world.parquet) gets it from the same city generated again into a temporary folder
(the same arguments give the same entities; pass --enterprises/--months/--start/--seed as the home was built).

Timed: `inspectorate.carry_out` for the month, from reading the truth to the last file written, into a
temporary landing folder (the home's landing is left as it is). Prints the seconds, the tasks, results and files,
and the peak RSS. Target (issue 15): carrying out a month <= 10 s on 2 cores for the 700,000-entity city.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import zs_risk_synth as synth
from zs_risk_synth import inspectorate, world_truth

SEED = 20240601


def _latest_plan_month(plans: Path) -> str:
    months = sorted({json.loads(p.read_text(encoding="utf-8"))["month"] for p in plans.glob("*/plan.json")})
    if not months:
        sys.exit(f"no published plan packages in {plans}: build months first (bench/bench_month.py --home DIR)")
    return months[-1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--home", required=True, help="a home with built months (bench/bench_month.py --home DIR)")
    ap.add_argument("--month", help="the plan month M+1 to carry out (default: the latest published)")
    ap.add_argument("--enterprises", type=int, default=700_000)
    ap.add_argument("--months", type=int, default=17)
    ap.add_argument("--start", default="2023-01")
    ap.add_argument("--seed", type=int, default=SEED)
    args = ap.parse_args()
    home = Path(args.home)
    month = args.month or _latest_plan_month(home / "plans")
    with tempfile.TemporaryDirectory() as tmp:
        truth = home / "ground_truth"
        if not (truth / world_truth.WORLD_FILE).exists():
            t0 = time.perf_counter()
            truth = Path(tmp) / "truth"
            synth.generate(
                Path(tmp) / "city",
                truth,
                enterprises=args.enterprises,
                months=args.months,
                start=args.start,
                seed=args.seed,
            )
            shutil.rmtree(Path(tmp) / "city")
            print(f"world truth regenerated in {time.perf_counter() - t0:.0f} s (not timed)")
        landing = Path(tmp) / "landing"
        tier_month = inspectorate.previous_month(month)
        shutil.copytree(home / "landing" / "inspectors" / tier_month, landing / "inspectors" / tier_month)
        t0 = time.perf_counter()
        carried = inspectorate.carry_out(
            home / "plans", landing, truth, month, last_month=month, warehouse=home / "warehouse.duckdb"
        )
        took = time.perf_counter() - t0
        results = sum(1 for f in landing.glob("inspections/*/*.csv") for _ in f.open(encoding="utf-8")) - len(
            list(landing.glob("inspections/*/*.csv"))
        )
    print(carried.line())
    print(
        f"carrying out {month}: {took:.2f} s for {carried.tasks:,} planned tasks and {carried.queued:,} queued firms, "
        f"{results:,} results in {len(carried.files) - 1} weekly files; peak RSS "
        f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB; target <= 10 s: "
        + ("met" if took <= 10 else "NOT met")
    )


if __name__ == "__main__":
    main()
