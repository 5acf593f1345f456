"""Benchmark: the high-risk flags of one month's rollup layers at city scale (高风险区域、行业的研判).

    python bench/bench_hotspots.py [--enterprises 280000] [--inspections 12000] [--seed 20240601] [--no-loop]

The flags read only the month's layers (one row per cell: n, k) and six months of each cell's history, so this
benchmark makes those at Zhongshan's scale without the chain (not timed): 280,000 enterprises over 23 towns of
skewed size and 97 GB/T 4754 divisions in 20 sections (lognormal weights), the C+D share of each cell drawn
around 12 % with cells that differ (beta, a prior worth ~300 enterprises), and a few hot and rising cells; the
problem-found rate on ~12,000 random inspections (effective counts, not whole numbers) around 25 %. Layers:
town (23 cells), section (20), division (97), town × section (~460), town × division (~2,200 cells with any
enterprise), each with its six months of history.

It times `hotspots.assess_layer` on every layer for both measures (the flags of the month, with trends and a
flag history), prints each layer's cells, tested cells, high-risk and rising flags, φ and the prior, and the
total; then, unless --no-loop, the same trend fits on the town × division layer as a loop of statsmodels GLM
fits, the method the batch fit replaces. Target (issue 16): rollups, flags and page for one month of the
700,000-entity city within 15 s on 2 cores; the flags are a small part of it.
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

import numpy as np
import pandas as pd
import statsmodels.api as sm

from zs_risk_pipeline.lib.policy import folder
from zs_risk_pipeline.lib.rollups import hotspots

MONTHS = ["2024-01", "2024-02", "2024-03", "2024-04", "2024-05", "2024-06"]
TOWNS, SECTIONS, DIVISIONS = 23, 20, 97
TARGET_S = 15.0


def base_cells(rng: np.random.Generator, enterprises: int) -> pd.DataFrame:
    """town × division cells with their enterprises (those with any) and each cell's section."""
    town_w = rng.lognormal(0, 0.9, TOWNS)
    division_w = rng.lognormal(0, 1.3, DIVISIONS)
    section = np.sort(np.r_[np.arange(SECTIONS), rng.integers(0, SECTIONS, DIVISIONS - SECTIONS)])
    expected = enterprises * np.outer(town_w / town_w.sum(), division_w / division_w.sum())
    n = rng.poisson(expected)
    town, division = np.nonzero(n > 0)
    return pd.DataFrame(
        {
            "town": [f"4420001{t:02d}" for t in town],
            "section": [chr(ord("A") + section[d]) for d in division],
            "division": [f"{d + 1:02d}" for d in division],
            "n": n[town, division],
        }
    )


def histories(rng: np.random.Generator, cells: pd.DataFrame, p0: float, strength: float, scale: float) -> pd.DataFrame:
    """Six months of (n, k) per town × division cell: a rate of its own, a few hot cells and a few rising ones;
    `scale` < 1 turns enterprises into effective inspections (not whole numbers)."""
    m = len(cells)
    rate = rng.beta(p0 * strength, (1 - p0) * strength, m)
    hot = rng.choice(m, 10, replace=False)
    rate[hot] = np.minimum(rate[hot] * 2.5, 0.9)
    rising = rng.choice(m, 10, replace=False)
    months = []
    for i, month in enumerate(MONTHS):
        r = rate.copy()
        r[rising] = np.minimum(rate[rising] * (1 + 0.15 * i), 0.9)
        n = cells["n"].to_numpy() * scale
        k = rng.binomial(np.rint(n).astype(np.int64), r) * np.where(n > 0, n / np.maximum(np.rint(n), 1), 0)
        months.append(cells[["town", "section", "division"]].assign(month=month, n=n, k=np.minimum(k, n)))
    return pd.concat(months, ignore_index=True)


def layers(history: pd.DataFrame) -> dict[str, tuple[list[str], pd.DataFrame]]:
    cuts = {
        "town": ["town"],
        "section": ["section"],
        "division": ["division"],
        "town × section": ["town", "section"],
        "town × division": ["town", "division"],
    }
    out = {}
    for name, keys in cuts.items():
        monthly = history.groupby([*keys, "month"], as_index=False)[["n", "k"]].sum()
        out[name] = (keys, monthly)
    return out


def glm_loop(history: pd.DataFrame, keys: list[str]) -> float:
    """Seconds to fit the same trends one cell at a time with statsmodels."""
    start = time.perf_counter()
    t = sm.add_constant(np.arange(len(MONTHS), dtype="float64"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _, cell in history.groupby(keys, sort=False):
            cell = cell.sort_values("month")
            if len(cell) == len(MONTHS) and 0 < cell["k"].sum() < cell["n"].sum():
                k, n = cell["k"].to_numpy(), cell["n"].to_numpy()
                sm.GLM(np.c_[k, n - k], t, family=sm.families.Binomial()).fit()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--enterprises", type=int, default=280_000)
    parser.add_argument("--inspections", type=int, default=12_000)
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--no-loop", action="store_true", help="skip timing the statsmodels loop")
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    policy = folder.current().hotspots
    cells = base_cells(rng, args.enterprises)
    measures = {
        "cd_share": histories(rng, cells, 0.12, 300, 1.0),
        "problem_rate": histories(rng, cells, 0.25, 100, args.inspections / args.enterprises),
    }
    prepared = {measure: layers(history) for measure, history in measures.items()}

    load0 = os.getloadavg()
    total = 0.0
    print(f"{'measure':<13}{'layer':<17}{'cells':>7}{'tested':>8}{'high':>6}{'rising':>8}{'φ':>7}"
          f"{'inflated':>10}{'a+b':>9}{'seconds':>9}")  # fmt: skip
    for measure, by_layer in prepared.items():
        for name, (keys, monthly) in by_layer.items():
            current = monthly[monthly["month"] == MONTHS[-1]].drop(columns="month")
            # last month's flags, as the month before would have published them
            before = monthly[monthly["month"] == MONTHS[-2]].drop(columns="month")
            earlier = hotspots.assess_layer(before, keys, policy, measure=measure, month=MONTHS[-2]).cells
            flags = earlier[[*keys, "high_risk", "rising"]].assign(month=MONTHS[-2])
            start = time.perf_counter()
            got = hotspots.assess_layer(
                current, keys, policy, measure=measure, month=MONTHS[-1], history=monthly, flag_history=flags
            )
            seconds = time.perf_counter() - start
            total += seconds
            s = got.summary
            print(
                f"{measure:<13}{name:<17}{s.cells:>7}{s.tested:>8}{s.high_risk:>6}{s.rising:>8}"
                f"{s.overdispersion.phi:>7.2f}{s.overdispersion.inflated!s:>10}{s.prior.strength:>9.0f}{seconds:>9.3f}"
            )
    load1 = os.getloadavg()
    print(f"flags of {sum(len(v) for v in prepared.values())} layers: {total:.2f} s (target: part of {TARGET_S:.0f} s)")
    print(f"load average before {load0[0]:.2f}, after {load1[0]:.2f}")
    if not args.no_loop:
        keys, monthly = prepared["cd_share"]["town × division"]
        cells_fitted = monthly.groupby(keys).ngroups
        print(f"statsmodels GLM loop over the {cells_fitted} town × division cells: {glm_loop(monthly, keys):.2f} s")


if __name__ == "__main__":
    main()
