"""How a month of model monitoring reads (模型监测报告): markdown tables and summary lines.

Plain Python, no Dagster.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Sequence
from typing import Any

import duckdb
import pandas as pd

from zs_risk_pipeline.lib.core.month import Month
from zs_risk_pipeline.lib.model.registry import Registry
from zs_risk_pipeline.lib.monitoring import model_monitoring, monitoring_policy


def _f(v: Any, fmt: str = ".4f") -> str:
    return "" if v is None or (isinstance(v, float) and not math.isfinite(v)) or pd.isna(v) else format(v, fmt)


def _pp(v: Any) -> str:
    return "" if v is None else f"{v:+.2f}"


def markdown_tables(frame: pd.DataFrame, top_strata: int = 10) -> dict[str, str]:
    """Markdown tables of a month's stored monitoring (asset metadata): score PSI, key indicators, tier mix,
    problem-found rate by tier, ordering verdict."""
    if frame.empty:
        return {}
    by = {metric: rows for metric, rows in frame.groupby("metric", sort=False)}
    empty = frame.iloc[0:0]
    score = pd.concat([by.get("score_psi", empty), by.get("score_psi_stratum", empty)])
    strata = by.get("score_psi_stratum", empty)
    shown = pd.concat([by.get("score_psi", empty), strata.sort_values(["value", "seq"], ascending=[False, True])])
    score_md = "| comparison | PSI | moderate at | significant at | severity | n | n reference |\n"
    score_md += "|---|---|---|---|---|---|---|\n" + "\n".join(
        f"| {r.subject} | {_f(r.value)} | {_f(r.detail.get('moderate_at'))} "
        f"| {_f(r.threshold)} | {r.status} | {r.n:,} | {r.n_reference:,} |"
        for r in shown.head(top_strata + 1).itertuples()
    )
    if len(strata) > top_strata:
        score_md += f"\n\n_{len(strata) - top_strata} more strata; {int((score['status'] != 'stable').sum())} of "
        score_md += f"{len(score)} comparisons not stable_"
    ind = by.get("indicator_psi", empty)
    ind_md = "| indicator | PSI | significant at | severity |\n|---|---|---|---|\n" + "\n".join(
        f"| {r.subject} | {_f(r.value)} | {_f(r.threshold)} | {r.status} |" for r in ind.itertuples()
    )
    mix = by.get("tier_mix_psi", empty)
    shares = by.get("tier_share", empty)
    mix_md = "| tier | share | vs reference (pp) | vs previous month (pp) |\n|---|---|---|---|\n" + "\n".join(
        f"| {r.subject} | {_f(r.value, '.2%')} | {_pp(r.detail.get('change_vs_reference_pp'))} "
        f"| {_pp(r.detail.get('change_vs_previous_pp'))} |"
        for r in shares.itertuples()
    )
    mix_md += "\n\n" + "; ".join(
        f"PSI {r.subject.replace('_', ' ')} ({str(r.detail.get('month', ''))[:7]}): {_f(r.value) or 'n/a'} {r.status}"
        for r in mix.itertuples()
    )
    rates = by.get("problem_rate", empty)
    rate_md = (
        "| tier | weighted rate | SE | inspections | problems | compared |\n|---|---|---|---|---|---|\n"
        + "\n".join(
            f"| {r.subject} | {_f(r.value, '.2%')} | {_f(r.detail.get('se'), '.2%')} | {r.n:,} "
            f"| {r.detail.get('problems', 0):,} | {'yes' if r.status == 'reported' else 'no (too few)'} |"
            for r in rates.itertuples()
        )
    )
    pairs = by.get("tier_order", empty)
    verdict = by.get("tier_order_verdict", empty)
    order_md = "| pair | lower − higher rate | SE of difference | z | result |\n|---|---|---|---|---|\n" + "\n".join(
        f"| {r.subject} | {_f(r.detail.get('difference'), '+.2%')} | {_f(r.detail.get('se_difference'), '.2%')} "
        f"| {_f(r.value, '.2f')} | {r.status} |"
        for r in pairs.itertuples()
    )
    if not verdict.empty:
        v = verdict.iloc[0]
        order_md += f"\n\n**{v.status}**: {v.detail.get('note', '')} ({v.detail.get('window', '')})"
    return {
        "score_psi": score_md,
        "indicator_psi": ind_md,
        "tier_mix_shift": mix_md,
        "problem_rate_by_tier": rate_md,
        "tier_ordering": order_md,
    }


def previous_reference(
    conn: duckdb.DuckDBPyConnection,
    month: str,
    policy: monitoring_policy.MonitoringPolicy,
    registry: Registry | None = None,
) -> tuple[dt.date, str] | None:
    """The reference month of the scorer that served the month before M - its promotion month, or the scorecard's
    first tiered month - and why; None when M has no month before it with tiers.

    A month in which a model starts serving is its own reference (drift shows from the next month on): compared
    with the previous scorer's reference instead, it shows how the new model moved scores and tiers."""
    before = Month.of(month).previous().label
    ref, why = monitoring_policy.reference_month(conn, before, policy, registry)
    return (ref, f"the reference of the scorer serving {before}: {why}") if ref is not None else None


def closing_lines(
    conn: duckdb.DuckDBPyConnection,
    month: str,
    policy: monitoring_policy.MonitoringPolicy | None = None,
    registry: Registry | None = None,
) -> list[str]:
    """summary_lines for M; when M is its own reference month, M against the previous scorer's reference month
    instead (computed here, read-only, as the monitoring asset computes it), saying so."""
    stored = model_monitoring.month_rows(conn, month)
    m = Month.of(month).start
    if stored.empty or pd.Timestamp(stored["reference_month"].iloc[0]).date() != m:
        return summary_lines(conn, month, stored)
    policy = policy or monitoring_policy.load_policy()
    previous = previous_reference(conn, month, policy, registry)
    if previous is None:
        return summary_lines(conn, month, stored)
    frame, _ = model_monitoring.compute_month(conn, month, policy, registry, previous)
    frame["detail"] = [json.loads(d) for d in frame["detail"]]
    lines = summary_lines(conn, month, frame)
    note = (
        f"  ({m:%Y-%m} is its serving model's own reference month, as its stored monitoring says: shown here "
        f"against {previous[0]:%Y-%m}, the previous scorer's)"
    )
    return [lines[0], note, *lines[1:]]


def summary_lines(conn: duckdb.DuckDBPyConnection, month: str, frame: pd.DataFrame | None = None) -> list[str]:
    """Lines for the demo printout: score PSI against the reference with its severity, the indicators drifting
    most, the tier-mix shift, the weighted problem-found rate by tier with n, and the ordering verdict; of the
    stored monitoring rows of M, or of `frame` (rows as month_rows returns them)."""
    m = Month.of(month).start
    frame = model_monitoring.month_rows(conn, month) if frame is None else frame
    if frame.empty:
        return [f"model monitoring (模型监测) {m:%Y-%m}: not computed"]
    by = {metric: rows for metric, rows in frame.groupby("metric", sort=False)}
    ref = pd.Timestamp(frame["reference_month"].iloc[0]).strftime("%Y-%m")
    why = frame["detail"].iloc[0].get("reference")
    lines = [f"model monitoring (模型监测) {m:%Y-%m}, reference month {ref}" + (f" ({why}):" if why else ":")]
    if ref == f"{m:%Y-%m}":
        lines.append("  (the month a model starts serving is its own reference: drift shows from the next month on)")
    score = by.get("score_psi")
    if score is not None:
        s = score.iloc[0]
        strata = by.get("score_psi_stratum", score.iloc[0:0])
        alarms = strata[strata["status"] != "stable"]
        worst = ", ".join(f"{r.subject} {r.value:.3f} {r.status}" for r in alarms.head(3).itertuples())
        lines.append(
            f"  score PSI ({s.subject}) vs {ref}: {_f(s.value)} {s.status}; strata not stable: "
            f"{len(alarms)} of {len(strata)}" + (f" ({worst})" if worst else "")
        )
    ind = by.get("indicator_psi")
    if ind is not None:
        top = ind.sort_values(["value", "seq"], ascending=[False, True]).head(3)
        lines.append(
            "  indicators drifting most: "
            + ", ".join(f"{r.subject} {_f(r.value)} {r.status}" for r in top.itertuples())
        )
    mix = by.get("tier_mix_psi")
    shares = by.get("tier_share")
    if mix is not None and shares is not None:
        psis = ", ".join(
            f"{'vs ' + ref if r.subject == 'vs_reference' else 'vs previous month'} {_f(r.value) or 'n/a'} {r.status}"
            for r in mix.itertuples()
        )
        moves = "  ".join(
            f"{r.subject} {_f(r.value, '.1%')} ({_pp(r.detail.get('change_vs_reference_pp'))} pp)"
            for r in shares.itertuples()
        )
        lines.append(f"  tier mix PSI {psis}; shares (change vs {ref}): {moves}")
    rates = by.get("problem_rate")
    verdict = by.get("tier_order_verdict")
    if rates is not None and verdict is not None:
        v = verdict.iloc[0]
        lines.append(f"  problem-found rate by tier, random inspections {v.detail.get('window', '')} (weighted 1/π):")
        lines.append(
            "    "
            + "  ".join(
                f"{r.subject} {_f(r.value, '.1%') or 'n/a'}"
                + (f" ± {_f(r.detail.get('se'), '.1%')}" if r.detail.get("se") is not None else "")
                + f" (n {r.n:,}{'' if r.status == 'reported' else ', too few'})"
                for r in rates.itertuples()
            )
        )
        lines.append(f"  tier ordering A < B < C < D: {v.status} - {v.detail.get('note', '')}")
    return lines


def significant_drift(frame: pd.DataFrame, metrics: Sequence[str]) -> list[dict[str, Any]]:
    """Rows of the given PSI metrics whose status is significant (what the warning checks report)."""
    if frame.empty:
        return []
    hits = frame[frame["metric"].isin(list(metrics)) & (frame["status"] == "significant")]
    return [
        {
            "metric": r.metric,
            "subject": r.subject,
            "psi": round(float(r.value), 6),
            "threshold": round(float(r.threshold), 6),
        }
        for r in hits.itertuples()
    ]
