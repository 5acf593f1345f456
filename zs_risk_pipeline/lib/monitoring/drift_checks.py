"""Drift of the month against its reference (漂移监测): the score, the key indicators and the tier mix.

PSI with a threshold that grows as a stratum shrinks (methods.md §2.2), so sampling noise in a small town does
not alarm. Plain Python, no Dagster.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import chi2

from zs_risk_pipeline.lib.features import enterprise_monthly
from zs_risk_pipeline.lib.monitoring import drift, monitoring_policy


def critical_psi(n: int, m: int, df: int, level: float) -> float:
    """The PSI that sampling noise alone exceeds with probability 1 − level: (1/n + 1/m)·χ²_level(df)."""
    if n <= 0 or m <= 0 or df < 1:
        return 0.0
    return (1.0 / n + 1.0 / m) * float(chi2.ppf(level, df))


def judge_psi(
    value: float, n: int, n_reference: int, df: int, policy: monitoring_policy.MonitoringPolicy
) -> dict[str, Any]:
    """Status of a PSI: moderate / significant at max(rule of thumb, χ² critical value for these sizes)."""
    critical = critical_psi(n, n_reference, df, policy.level)
    moderate = max(policy.moderate, critical)
    significant = max(policy.significant, critical)
    return {
        "status": drift.severity(value, moderate, significant),
        "threshold": significant,
        "detail": {"moderate_at": moderate, "critical_value": critical, "bins": df + 1, "level": policy.level},
    }


def _psi_row(
    metric: str,
    subject: str,
    reference: pd.Series,
    current: pd.Series,
    kind: str,
    policy: monitoring_policy.MonitoringPolicy,
) -> dict[str, Any]:
    n, n_ref = len(current), len(reference)
    if n == 0 or n_ref == 0:
        return _row(metric, subject, None, None, "no_data", n, n_ref, {"note": "nothing to compare"})
    ref_counts, cur_counts = drift.bin_counts(reference, current, kind=kind, bins=policy.bins)
    value = drift.psi_from_counts(ref_counts, cur_counts)
    judged = judge_psi(value, n, n_ref, int(((ref_counts + cur_counts) > 0).sum()) - 1, policy)
    return _row(metric, subject, value, judged["threshold"], judged["status"], n, n_ref, judged["detail"])


def _row(
    metric: str,
    subject: str,
    value: float | None,
    threshold: float | None,
    status: str,
    n: int | None,
    n_reference: int | None,
    detail: dict[str, Any],
) -> dict[str, Any]:
    return {
        "metric": metric,
        "subject": subject,
        "value": value,
        "threshold": threshold,
        "status": status,
        "n": n,
        "n_reference": n_reference,
        "detail": detail,
    }


def score_drift(scores: pd.DataFrame, policy: monitoring_policy.MonitoringPolicy) -> list[dict[str, Any]]:
    """Score PSI of the whole population, then per stratum (strata sorted; a loop over ~30 strata, not rows)."""
    current = scores[scores["is_current"]]
    reference = scores[~scores["is_current"]]
    rows = [_psi_row("score_psi", policy.score_column, reference["value"], current["value"], "numeric", policy)]
    for stratum in policy.strata:
        ref_groups = reference.groupby(stratum, sort=True).indices
        cur_groups = current.groupby(stratum, sort=True).indices
        for key in sorted(set(ref_groups) | set(cur_groups)):
            label = f"{stratum}={int(key) if isinstance(key, float | np.floating) else key}"
            ref_vals = reference["value"].iloc[ref_groups.get(key, [])]
            cur_vals = current["value"].iloc[cur_groups.get(key, [])]
            rows.append(_psi_row("score_psi_stratum", label, ref_vals, cur_vals, "numeric", policy))
    return rows


def indicator_drift(frame: pd.DataFrame, policy: monitoring_policy.MonitoringPolicy) -> list[dict[str, Any]]:
    """PSI of every key indicator against the reference month, in the configured order."""
    kinds = {i.name: i.kind for i in enterprise_monthly.indicators()}
    current = frame[frame["is_current"]]
    reference = frame[~frame["is_current"]]
    return [
        _psi_row("indicator_psi", name, reference[name], current[name], kinds[name], policy)
        for name in policy.key_indicators
    ]


def tier_mix(
    counts: dict[dt.date, dict[str, int]],
    m: dt.date,
    ref: dt.date,
    previous: dt.date,
    policy: monitoring_policy.MonitoringPolicy,
) -> list[dict[str, Any]]:
    """Categorical PSI of the tier shares against the reference month and against M-1, and share changes."""
    cur = np.array([counts.get(m, {}).get(t, 0) for t in monitoring_policy.TIERS], dtype=float)
    shares = {
        when: np.array([counts.get(when, {}).get(t, 0) for t in monitoring_policy.TIERS], dtype=float)
        for when in (ref, previous)
    }
    rows = []
    for subject, when in (("vs_reference", ref), ("vs_previous", previous)):
        other = shares[when]
        if other.sum() == 0 or cur.sum() == 0:
            rows.append(_row("tier_mix_psi", subject, None, None, "no_data", int(cur.sum()), 0, {"month": str(when)}))
            continue
        value = drift.psi_from_counts(other, cur)
        judged = judge_psi(value, int(cur.sum()), int(other.sum()), int(((cur + other) > 0).sum()) - 1, policy)
        detail = {**judged["detail"], "month": str(when)}
        rows.append(
            _row(
                "tier_mix_psi",
                subject,
                value,
                judged["threshold"],
                judged["status"],
                int(cur.sum()),
                int(other.sum()),
                detail,
            )
        )

    def share(v: np.ndarray) -> np.ndarray:
        return v / v.sum() if v.sum() else np.full(len(v), np.nan)

    s_cur, s_ref, s_prev = share(cur), share(shares[ref]), share(shares[previous])
    for i, t in enumerate(monitoring_policy.TIERS):
        detail = {
            "reference_share": _num(s_ref[i]),
            "previous_share": _num(s_prev[i]),
            "change_vs_reference_pp": _num((s_cur[i] - s_ref[i]) * 100),
            "change_vs_previous_pp": _num((s_cur[i] - s_prev[i]) * 100),
        }
        rows.append(_row("tier_share", t, _num(s_cur[i]), None, "reported", int(cur[i]), int(shares[ref][i]), detail))
    return rows


def _num(v: float) -> float | None:
    return None if v is None or not math.isfinite(v) else float(v)
