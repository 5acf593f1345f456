"""Dagster's fixed cost per step on the home's instance storage (Dagster 实例存储开销).

A month run is 46 steps (43 assets and 45 checks; each ingest layer is one step) storing about 400 events. This
runs a chain of one-line monthly assets through `execute_in_process` on a persistent SQLite instance, first with
Dagster's default storage, then with the home's storage (zs_risk_pipeline/defs/storage.py: the event log keeps its
connections open), each in a fresh DAGSTER_HOME with the rest of config/dagster.yaml (the duckdb pool limit, run
monitoring), and prints seconds per run and per step.

    python bench/bench_dagster_steps.py [--steps 80] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import dagster as dg
import yaml

from zs_risk_pipeline.lib.core import resources


def _instances() -> dict[str, str]:
    """The shipped instance settings as they are (the home's storage), and the same without their `storage`
    block (Dagster's default storage)."""
    home = yaml.safe_load(resources.instance_template().read_text(encoding="utf-8"))
    default = {k: v for k, v in home.items() if k != "storage"}
    return {"dagster": yaml.safe_dump(default), "home": yaml.safe_dump(home)}


def _child(steps: int, runs: int) -> None:
    months = dg.MonthlyPartitionsDefinition(start_date="2023-01-01", end_date="2026-01-01")
    chain: list[dg.AssetsDefinition] = []
    for i in range(steps):

        @dg.asset(name=f"step_{i:03d}", deps=chain[-1:], partitions_def=months, pool="duckdb")
        def _step() -> dg.MaterializeResult:
            return dg.MaterializeResult(metadata={"rows": 1})

        chain.append(_step)
    job = dg.Definitions(assets=chain).get_implicit_global_asset_job_def()
    with dg.DagsterInstance.get() as instance:
        for key in months.get_partition_keys()[:runs]:
            start = time.perf_counter()
            assert job.execute_in_process(partition_key=key, instance=instance).success
            print(f"{time.perf_counter() - start:.3f}", flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=80)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        _child(args.steps, args.runs)
        return 0
    for name, settings in _instances().items():
        with tempfile.TemporaryDirectory(prefix="bench-dagster-steps-") as home:
            (Path(home) / "dagster.yaml").write_text(settings, encoding="utf-8")
            out = subprocess.run(
                [sys.executable, __file__, "--child", "--steps", str(args.steps), "--runs", str(args.runs)],
                env={**os.environ, "DAGSTER_HOME": home, "DAGSTER_DISABLE_TELEMETRY": "true"},
                capture_output=True,
                text=True,
                check=True,
            ).stdout
        seconds = [float(s) for s in out.split()]
        mean = sum(seconds) / len(seconds)
        print(
            f"{name:8s} storage: {args.steps} steps, runs {', '.join(f'{s:.2f}' for s in seconds)} s; "
            f"mean {mean:.2f} s per run, {1000 * mean / args.steps:.0f} ms per step"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
