"""Benchmark: training the risk model and tiering one month at full city scale (风险模型与月度分类).

    python bench/bench_model.py [--enterprises 700000] [--months 24] [--workdir DIR]

A child process generates the synthetic city, ingests every month and builds the monthly features (not
timed here). Then, for the last month, this process times `promotion.run_month` (labels, LightGBM training,
calibration, champion/scorecard/oracle comparison on the holdout, the gate's verdict, registry) and
`scoring.build_tiers` (scoring every enterprise with pred_contrib reasons, tier policy, write). It prints the
model's weighted AUC next to the scorecard's and the oracle's (ranking by the hidden true risk) on the same
holdout, the problem-found rate by tier and the expected problems found at the plans' budget. Targets on 2 cores:
training <= 5 min, scoring and tiering <= 30 s.
`--workdir` keeps the prepared warehouse, so a second run skips the preparation.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import tempfile
import time
from pathlib import Path

import _city  # bench/_city.py: the shared prepared city

import zs_risk_synth as synth
from zs_risk_pipeline.lib.features import enterprise_monthly
from zs_risk_pipeline.lib.ingest import staging
from zs_risk_pipeline.lib.model import model_config, promotion, scorecard
from zs_risk_pipeline.lib.model.registry import Registry
from zs_risk_pipeline.lib.publish import tables
from zs_risk_pipeline.lib.sampling import plan_policy
from zs_risk_pipeline.lib.tiers import classify, tier_policy
from zs_risk_synth import oracle

SOURCES = (*enterprise_monthly.SOURCES, "plans")


def _prepare(root: str, enterprises: int, months: int, start: str) -> None:
    """Child process: generate the city, ingest every month and build every month's features."""
    land = Path(root) / "landing"
    t0 = time.perf_counter()
    synth.generate(land, Path(root) / "truth", enterprises=enterprises, months=months, start=start, seed=20240601)
    print(f"synthetic city generated in {time.perf_counter() - t0:.1f} s", flush=True)
    t0 = time.perf_counter()
    conn = _city.connect(Path(root) / "warehouse.duckdb")
    staging.prepare(conn, _city.PII_KEY)
    for month in sorted(p.name for p in (land / "registry").iterdir())[:months]:
        for name in SOURCES:
            staging.land(conn, name, month, land)
            staging.stage(conn, name, month)
        enterprise_monthly.build_enterprise_monthly(conn, month)
        print(f"  {month} ingested and features built ({time.perf_counter() - t0:.0f} s)", flush=True)
    conn.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--enterprises", type=int, default=700_000)
    ap.add_argument("--months", type=int, default=24)
    ap.add_argument("--start", default="2023-01")
    ap.add_argument("--workdir", type=Path, help="keep (or reuse) the prepared city here")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = args.workdir or Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        if not (root / "warehouse.duckdb").exists():
            child = mp.get_context("spawn").Process(
                target=_prepare, args=(str(root), args.enterprises, args.months, args.start)
            )
            child.start()
            child.join()
            if child.exitcode != 0:
                raise SystemExit(f"preparing the city failed (exit code {child.exitcode})")
        _measure(root)


def _measure(root: Path) -> None:
    conn = _city.connect(root / "warehouse.duckdb")
    month = conn.execute("SELECT strftime(max(month), '%Y-%m') FROM features.enterprise_monthly").fetchall()[0][0]
    registry = Registry(root / "models")
    card, policy, config = scorecard.load_scorecard(), tier_policy.load_policy(), model_config.load_config()
    spec = tables.MART_TABLES["enterprise_features"]

    t0 = time.perf_counter()
    population = tables.month_frame(conn, spec, month)
    decision = promotion.run_month(conn, month, population, registry, card, policy, config, plan_policy.load_plans())
    train_s = time.perf_counter() - t0
    funnel = decision["funnel"]
    print(
        f"model {month}: {decision['status']} ({decision['trained']}) in {train_s:.1f} s; labels {funnel['labels']:,} "
        f"of {funnel['random_inspections']:,} random inspections; population {len(population):,} enterprises"
    )
    for reason in decision["reasons"]:
        print(f"  decision: {reason}")
    if decision.get("verdict"):
        print(f"  {decision['verdict']}")
    hold = decision.get("holdout")
    if hold:
        for name in ("challenger", "champion", "scorecard"):
            m = hold[name]
            if m:
                rates = " < ".join(f"{t} {m['problem_rate_by_tier'].get(t, float('nan')):.3f}" for t in "ABCD")
                at = m["found_at_budget"]
                print(
                    f"  {name:10s} holdout labels {m['labels']:,}: weighted AUC {m['auc']:.4f}, KS {m['ks']:.4f}, "
                    f"Brier {m['brier']:.4f}; problem-found rate {rates}; at the plans' budget {at['found']:,.0f} "
                    f"problems in {at['budget']:,.0f} inspections a month ({at['hit_rate']:.4f} each)"
                )
        truth = oracle.load_truth(root / "truth")
        best = oracle.holdout_auc(conn, month, truth, config) if truth is not None else None
        if best:
            print(f"  oracle     weighted AUC {best:.4f}; model / oracle = {hold['challenger']['auc'] / best:.3f}")

    t0 = time.perf_counter()
    population = tables.month_frame(conn, spec, month)
    summary = classify.build_tiers(conn, month, population, registry, card, policy)
    tier_s = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"scoring and tiering {month}: {summary['rows']:,} enterprises with {summary['model_kind']} "
        f"{summary['model_version']} in {tier_s:.1f} s; shares {summary['tier_shares']}; peak RSS {peak:,.0f} MB"
    )
    conn.close()


if __name__ == "__main__":
    main()
