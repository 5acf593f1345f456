"""Do the tiers still order risk (分类排序检验): problem-found rates by tier from the latest inspection results.

One-sided tests between adjacent tiers on a rolling window of results. Plain Python, no Dagster.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from zs_risk_pipeline.lib.core.month import Month
from zs_risk_pipeline.lib.core.sql import render, run_sql
from zs_risk_pipeline.lib.monitoring import drift_checks, monitoring_policy


@dataclass(frozen=True)
class TierRate:
    tier: str
    inspections: int  # random inspections of the window matched to the tier, with π known
    problems: int
    rate: float | None  # Hájek: Σ y/π / Σ 1/π
    se: float | None  # linearised: sqrt(n/(n−1)·Σ w²(y − rate)²) / Σ w
    weight_sum: float
    effective_n: float  # Kish: (Σw)² / Σw²
    enough: bool  # at least min_inspections: compared in the ordering verdict


def problem_rates(results: pd.DataFrame, min_inspections: int) -> list[TierRate]:
    """Weighted problem-found rate per tier from rows (tier, pi, problem_found); rows without π or tier are not
    weighted. Vectorised sums in row order (the SQL orders them), so every run gives the same floats."""
    usable = results[results["tier"].isin(monitoring_policy.TIERS) & results["pi"].notna()]
    codes = usable["tier"].map({t: i for i, t in enumerate(monitoring_policy.TIERS)}).to_numpy(dtype=np.int64)
    w = 1.0 / usable["pi"].to_numpy(dtype=float)
    y = usable["problem_found"].to_numpy(dtype=float)
    k = len(monitoring_policy.TIERS)
    n = np.bincount(codes, minlength=k)
    sw = np.bincount(codes, weights=w, minlength=k)
    swy = np.bincount(codes, weights=w * y, minlength=k)
    sw2 = np.bincount(codes, weights=w * w, minlength=k)
    found = np.bincount(codes, weights=y, minlength=k)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(sw > 0, swy / sw, np.nan)
        resid = np.bincount(codes, weights=(w * (y - rate[codes])) ** 2, minlength=k)
        se = np.where(n > 1, np.sqrt(n / np.maximum(n - 1, 1) * resid) / sw, np.nan)
        n_eff = np.where(sw2 > 0, sw**2 / sw2, 0.0)
    return [
        TierRate(
            tier=t,
            inspections=int(n[i]),
            problems=int(found[i]),
            rate=drift_checks._num(rate[i]),
            se=drift_checks._num(se[i]),
            weight_sum=float(sw[i]),
            effective_n=float(n_eff[i]),
            enough=bool(n[i] >= min_inspections),
        )
        for i, t in enumerate(monitoring_policy.TIERS)
    ]


@dataclass(frozen=True)
class PairTest:
    lower: str  # the lower-risk tier
    higher: str
    difference: float  # lower's rate − higher's rate: > 0 is an inversion
    se: float
    z: float | None  # difference / se (None when se is 0)
    status: str  # rises | not_significant | inversion


@dataclass(frozen=True)
class OrderVerdict:
    passed: bool
    status: str  # pass | fail | insufficient_results (passes)
    pairs: tuple[PairTest, ...]
    skipped: tuple[str, ...]  # tiers with too few inspections
    note: str

    @property
    def inversions(self) -> list[PairTest]:
        return [p for p in self.pairs if p.status == "inversion"]


def tier_order(rates: Sequence[TierRate], z: float) -> OrderVerdict:
    """Every pair of compared tiers (lower-risk first) must not show a significant inversion."""
    compared = [r for r in rates if r.enough and r.rate is not None]
    skipped = tuple(r.tier for r in rates if r not in compared)
    pairs = []
    for i, lo in enumerate(compared):
        for hi in compared[i + 1 :]:
            diff = lo.rate - hi.rate
            se = math.sqrt((lo.se or 0.0) ** 2 + (hi.se or 0.0) ** 2)
            ratio = diff / se if se > 0 else None
            if diff < 0:
                status = "rises"
            elif diff > 0 and (ratio is None or ratio > z):
                status = "inversion"
            else:
                status = "not_significant"
            pairs.append(PairTest(lo.tier, hi.tier, diff, se, ratio, status))
    if len(compared) < 2:
        names = "".join(r.tier for r in compared) or "none"
        note = f"not enough results: tiers with enough inspections: {names}; the ordering is not judged"
        return OrderVerdict(True, "insufficient_results", tuple(pairs), skipped, note)
    bad = [p for p in pairs if p.status == "inversion"]
    order = " < ".join(r.tier for r in compared)
    if bad:
        note = "significant inversion: " + ", ".join(
            f"{p.lower} {_pct(p.difference)} above {p.higher}" + (f" (z {p.z:.2f})" if p.z is not None else "")
            for p in bad
        )
    else:
        note = f"no significant inversion among {order} at z {z:g}"
    if skipped:
        note += f"; skipped (too few inspections): {', '.join(skipped)}"
    return OrderVerdict(not bad, "fail" if bad else "pass", tuple(pairs), skipped, note)


def _pct(v: float | None) -> str:
    return "n/a" if v is None else f"{v * 100:.1f} pp"


def results_window(month: str, window_months: int) -> tuple[dt.date, dt.date, dt.date]:
    """(first delivery month, M, last day of M) of the latest results for tier month M."""
    m = Month.of(month).start
    start = Month.of(m).shift(1 - window_months).start
    return start, m, Month.of(month).end


def latest_results(
    conn: duckdb.DuckDBPyConnection, month: str, policy: monitoring_policy.MonitoringPolicy
) -> pd.DataFrame:
    start, m, end = results_window(month, policy.window_months)
    run_sql(conn, "intermediate/random_plans.sql")
    sql = render("intermediate/monitoring.model_monitoring.sql#latest_results")
    return conn.execute(sql, {"window_start": start, "month": m, "month_end": end}).df()


def ordering(
    conn: duckdb.DuckDBPyConnection, month: str, policy: monitoring_policy.MonitoringPolicy
) -> tuple[list[TierRate], OrderVerdict, dict[str, Any]]:
    """Rates by tier of the latest results, the ordering verdict, and the funnel of the window's inspections."""
    results = latest_results(conn, month, policy)
    rates = problem_rates(results, policy.min_inspections)
    verdict = tier_order(rates, policy.z)
    start, m, _ = results_window(month, policy.window_months)
    funnel = {
        "window": f"delivered {start:%Y-%m}..{m:%Y-%m}",
        "random_inspections": len(results),
        "without_plan_pi": int(results["pi"].isna().sum()),
        "without_tier_month_before": int(results["tier"].isna().sum()),
        "min_inspections": policy.min_inspections,
        "z": policy.z,
    }
    return rates, verdict, funnel


def ordering_detail(rates: Sequence[TierRate], verdict: OrderVerdict, funnel: dict[str, Any]) -> dict[str, Any]:
    """Plain-JSON description of the verdict (audit record and check metadata)."""
    return {
        "verdict": verdict.status,
        "note": verdict.note,
        "rates_by_tier": {
            r.tier: {"rate": r.rate, "se": r.se, "inspections": r.inspections, "problems": r.problems} for r in rates
        },
        "inversions": [f"{p.lower}>{p.higher}" for p in verdict.inversions],
        "skipped_tiers": list(verdict.skipped),
        **funnel,
    }


def _ordering_rows(
    rates: Sequence[TierRate], verdict: OrderVerdict, funnel: dict[str, Any], z: float
) -> list[dict[str, Any]]:
    rows = [
        drift_checks._row(
            "problem_rate",
            r.tier,
            r.rate,
            None,
            "reported" if r.enough else "too_few",
            r.inspections,
            None,
            {"se": r.se, "problems": r.problems, "weight_sum": r.weight_sum, "effective_n": r.effective_n},
        )
        for r in rates
    ]
    rows += [
        drift_checks._row(
            "tier_order",
            f"{p.lower}<{p.higher}",
            p.z,
            z,
            p.status,
            None,
            None,
            {"difference": p.difference, "se_difference": p.se},
        )
        for p in verdict.pairs
    ]
    detail = {"note": verdict.note, "skipped_tiers": list(verdict.skipped), **funnel}
    rows.append(
        drift_checks._row(
            "tier_order_verdict",
            "A<B<C<D",
            float(verdict.passed),
            z,
            verdict.status,
            funnel["random_inspections"],
            None,
            detail,
        )
    )
    return rows
