"""Evaluation metrics (评估指标) of risk scores against inspection outcomes, with optional sample weights.

`y` is 1 when an inspection found a problem (发现问题) and 0 otherwise; a higher score means riskier.
Weights let a sampled inspection stand for its stratum (inverse sampling probability, methods.md §2.5).
AUC, KS and Brier come from scikit-learn (weighted); the tier rates are vectorised numpy.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from sklearn.metrics import brier_score_loss, roc_auc_score, roc_curve


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


def _both_classes(y: np.ndarray, w: np.ndarray) -> bool:
    return bool((w * y).sum() > 0 and (w * (1.0 - y)).sum() > 0)


def weighted_auc(y: np.ndarray, score: np.ndarray, w: np.ndarray | None = None) -> float:
    """Weighted ROC AUC: P(score of a positive > score of a negative), a tie counting as half.

    Each (positive i, negative j) pair weighs w_i·w_j. NaN when either class has no weight.
    """
    y, score, w = _inputs(y, score, w)
    return float(roc_auc_score(y, score, sample_weight=w)) if _both_classes(y, w) else float("nan")


def ks(y: np.ndarray, score: np.ndarray, w: np.ndarray | None = None) -> float:
    """Kolmogorov-Smirnov statistic: the largest gap between the weighted score CDFs of the two classes.

    The CDFs are compared only between distinct scores (tied rows move together). NaN when a class is empty.
    """
    y, score, w = _inputs(y, score, w)
    if not _both_classes(y, w):
        return float("nan")
    fpr, tpr, _ = roc_curve(y, score, sample_weight=w, drop_intermediate=False)
    return float(np.abs(tpr - fpr).max())


def brier(y: np.ndarray, p: np.ndarray, w: np.ndarray | None = None) -> float:
    """Weighted Brier score: the weighted mean of (p − y)², lower is better. NaN when all weights are 0."""
    y, p, w = _inputs(y, p, w)
    if ((p < 0) | (p > 1)).any():
        raise ValueError("probabilities must lie in [0, 1]")
    return float(brier_score_loss(y, p, sample_weight=w)) if w.sum() > 0 else float("nan")


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


def found_at_budget(
    y: np.ndarray,
    tier: np.ndarray,
    w: np.ndarray | None,
    ratios: Mapping[str, float],
    tier_sizes: Mapping[str, int],
) -> dict[str, float]:
    """The problems a scorer's tiers would find at the plans' budget (按抽查比例预期发现问题数): for each tier, the
    configured ratio × the firms the scorer puts in it × the tier's weighted problem-found rate on the holdout.

    What inspections need is not a ranking in general but problems found with the inspections the ratios pay
    for; AUC rewards order everywhere, even among the firms no ratio will ever reach. A tier the ratios inspect
    but the holdout has no inspection of makes the result NaN: it cannot be measured, so it cannot win."""
    rates = rate_by_tier(y, tier, w)
    found = budget = 0.0
    for t, ratio in ratios.items():
        inspections = ratio * tier_sizes.get(t, 0)
        if inspections <= 0:
            continue
        budget += inspections
        found += inspections * rates.get(t, float("nan"))
    return {"found": found, "budget": budget, "hit_rate": found / budget if budget > 0 else float("nan")}
