"""Distribution drift of indicators between months (指标漂移): the population stability index (PSI).

PSI = Σ (q − p) · ln(q / p) over bins, p the reference month's shares, q the current month's. Numeric
indicators use the reference month's deciles as fixed edges; binary and categorical ones use their
values; NULL is a bin of its own. Empty bins get a small epsilon so one empty bin cannot make PSI
infinite. Conventions (methods.md §2.2): < 0.10 stable, 0.10–0.25 moderate, > 0.25 significant; at
city-wide sample sizes these cut-offs almost never fire by chance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

EPSILON = 1e-4


@dataclass(frozen=True)
class Drift:
    indicator: str
    psi: float
    severity: str  # stable | moderate | significant


def _shares(codes: np.ndarray, n_bins: int) -> np.ndarray:
    counts = np.bincount(codes, minlength=n_bins).astype(float)
    shares = counts / max(counts.sum(), 1.0)
    return np.maximum(shares, EPSILON)


def psi(reference: pd.Series, current: pd.Series, *, kind: str = "numeric", bins: int = 10) -> float:
    ref_null = reference.isna().to_numpy()
    cur_null = current.isna().to_numpy()
    if kind == "numeric":
        ref_vals = reference.to_numpy(dtype=float, na_value=np.nan)[~ref_null]
        cur_vals = current.to_numpy(dtype=float, na_value=np.nan)[~cur_null]
        qs = np.linspace(0, 1, bins + 1)[1:-1]
        edges = np.unique(np.quantile(ref_vals, qs)) if len(ref_vals) else np.empty(0)
        ref_codes = np.searchsorted(edges, ref_vals, side="right")
        cur_codes = np.searchsorted(edges, cur_vals, side="right")
        n_bins = len(edges) + 2  # value bins + the NULL bin
    else:
        cats = np.unique(np.concatenate([reference[~ref_null].astype(str), current[~cur_null].astype(str)]))
        ref_codes = np.searchsorted(cats, reference[~ref_null].astype(str).to_numpy())
        cur_codes = np.searchsorted(cats, current[~cur_null].astype(str).to_numpy())
        n_bins = len(cats) + 1
    null_bin = n_bins - 1
    p = _shares(np.concatenate([ref_codes, np.full(ref_null.sum(), null_bin)]).astype(np.int64), n_bins)
    q = _shares(np.concatenate([cur_codes, np.full(cur_null.sum(), null_bin)]).astype(np.int64), n_bins)
    return float(np.sum((q - p) * np.log(q / p)))


def severity(value: float, moderate: float = 0.10, significant: float = 0.25) -> str:
    if value >= significant:
        return "significant"
    return "moderate" if value >= moderate else "stable"


def drift_report(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    kinds: dict[str, str],
    *,
    bins: int = 10,
    moderate: float = 0.10,
    significant: float = 0.25,
) -> list[Drift]:
    """PSI of every indicator named in kinds, largest first."""
    out = [
        Drift(name, round(v, 6), severity(v, moderate, significant))
        for name, kind in kinds.items()
        for v in [psi(reference[name], current[name], kind=kind, bins=bins)]
    ]
    return sorted(out, key=lambda d: (-d.psi, d.indicator))
