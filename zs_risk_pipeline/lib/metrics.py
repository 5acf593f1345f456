"""Evaluation metrics (评估指标) of risk scores against inspection outcomes, with optional sample weights.

`y` is 1 when an inspection found a problem (发现问题) and 0 otherwise; a higher score means riskier.
Weights let a sampled inspection stand for its stratum (inverse sampling probability, methods.md §2.5).
numpy only, vectorised: no per-row Python loops, no scikit-learn dependency.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np


def _inputs(y: np.ndarray, x: np.ndarray, w: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    y = np.asarray(y, dtype="float64").reshape(-1)
    x = np.asarray(x, dtype="float64").reshape(-1)
    w = np.ones_like(y) if w is None else np.asarray(w, dtype="float64").reshape(-1)
    if not len(y) == len(x) == len(w):
        raise ValueError(f"lengths differ: y {len(y)}, score {len(x)}, w {len(w)}")
    if not np.isin(y, (0.0, 1.0)).all():
        raise ValueError("y must contain only 0 and 1")
    if not (np.isfinite(x).all() and np.isfinite(w).all()) or (w < 0).any():
        raise ValueError("scores must be finite and weights finite and non-negative")
    return y, x, w


def _grouped(y: np.ndarray, score: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weight of positives and of negatives at each distinct score, in ascending score order."""
    _, group = np.unique(score, return_inverse=True)
    group = group.reshape(-1)
    pos = np.bincount(group, weights=w * y)
    neg = np.bincount(group, weights=w * (1.0 - y))
    return pos, neg


def weighted_auc(y: np.ndarray, score: np.ndarray, w: np.ndarray | None = None) -> float:
    """Weighted ROC AUC: P(score of a positive > score of a negative), a tie counting as half.

    Each (positive i, negative j) pair weighs w_i·w_j. NaN when either class has no weight.
    """
    y, score, w = _inputs(y, score, w)
    pos, neg = _grouped(y, score, w)
    total_pos, total_neg = pos.sum(), neg.sum()
    if total_pos <= 0 or total_neg <= 0:
        return float("nan")
    below = np.cumsum(neg) - neg  # negative weight strictly below each distinct score
    return float((pos * (below + 0.5 * neg)).sum() / (total_pos * total_neg))


def ks(y: np.ndarray, score: np.ndarray, w: np.ndarray | None = None) -> float:
    """Kolmogorov-Smirnov statistic: the largest gap between the weighted score CDFs of the two classes.

    The CDFs are compared only between distinct scores (tied rows move together). NaN when a class is empty.
    """
    y, score, w = _inputs(y, score, w)
    pos, neg = _grouped(y, score, w)
    total_pos, total_neg = pos.sum(), neg.sum()
    if total_pos <= 0 or total_neg <= 0:
        return float("nan")
    return float(np.abs(np.cumsum(pos) / total_pos - np.cumsum(neg) / total_neg).max())


def brier(y: np.ndarray, p: np.ndarray, w: np.ndarray | None = None) -> float:
    """Weighted Brier score: the weighted mean of (p − y)², lower is better. NaN when all weights are 0."""
    y, p, w = _inputs(y, p, w)
    if ((p < 0) | (p > 1)).any():
        raise ValueError("probabilities must lie in [0, 1]")
    total = w.sum()
    return float((w * (p - y) ** 2).sum() / total) if total > 0 else float("nan")


def rate_by_tier(y: np.ndarray, tier: np.ndarray, w: np.ndarray | None = None) -> dict[str, float]:
    """Weighted problem-found rate of each tier present (检查发现问题率), keys sorted; NaN for a zero-weight tier."""
    tier = np.asarray(tier).reshape(-1).astype(str)
    y, _, w = _inputs(y, np.zeros(len(tier)), w)
    labels, group = np.unique(tier, return_inverse=True)
    group = group.reshape(-1)
    found = np.bincount(group, weights=w * y, minlength=len(labels))
    total = np.bincount(group, weights=w, minlength=len(labels))
    with np.errstate(invalid="ignore", divide="ignore"):
        rates = np.where(total > 0, found / np.where(total > 0, total, 1.0), np.nan)
    return {str(label): float(r) for label, r in zip(labels, rates, strict=True)}


def is_increasing(rates: Mapping[str, float], order: str = "ABCD", strict: bool = True) -> bool:
    """Whether the rates rise from the safest to the riskiest tier; tiers missing from `rates` are skipped.

    A NaN rate makes it False: an unmeasured tier cannot be shown to be ordered.
    """
    values = np.array([rates[t] for t in order if t in rates], dtype="float64")
    if np.isnan(values).any():
        return False
    steps = np.diff(values)
    return bool((steps > 0).all() if strict else (steps >= 0).all())
