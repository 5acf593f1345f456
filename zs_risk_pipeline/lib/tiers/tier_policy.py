"""Tier policy (信用风险分类等级规则): config/tier_policy.yaml turns risk scores into tiers A/B/C/D.

- `load_policy()` is the tier policy of the policy folder in use (validated by lib/policy/tiers.py: the method,
  target shares or score cut-offs, the share tolerance and the ordered hard overrides); `load_policy(path)`
  validates one file the same way.
- `assign_tiers(scores, features, policy, keys)` gives every enterprise its tier by score, then applies the
  overrides in order, recording which override decided the tier and why (in English and Chinese).

Tiers run from A (low risk, 低风险) to D (high risk, 高风险); a higher score is riskier.
Plain Python, no Dagster; vectorised with numpy.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from zs_risk_pipeline.lib.model.scorecard import feature_matrix
from zs_risk_pipeline.lib.policy import base, folder
from zs_risk_pipeline.lib.policy.tiers import ACTIONS, METHODS, TIERS, Override, TierPolicy, TierPolicyFile

__all__ = [
    "ACTIONS",
    "METHODS",
    "TIERS",
    "Override",
    "TierPolicy",
    "assign_tiers",
    "cutoffs_from_shares",
    "load_policy",
    "share_counts",
    "share_report",
]


def load_policy(path: Path | None = None) -> TierPolicy:
    """The tier policy of the policy folder in use, or of the file `path` (validated the same way)."""
    return folder.current().tier_policy if path is None else base.load_file(TierPolicyFile, path).build()


def share_counts(n: int, shares: dict[str, float]) -> dict[str, int]:
    """Exact tier counts summing to n: floors of n·share, the rest to the largest remainders (ties: A first)."""
    quota = np.array([shares[t] * n for t in TIERS])
    counts = np.floor(quota).astype(np.int64)
    left = n - int(counts.sum())
    # Stable sort on the negated remainders: equal remainders keep tier order, so the result is deterministic.
    order = np.argsort(-(quota - counts), kind="stable")
    counts[order[:left]] += 1
    return dict(zip(TIERS, (int(c) for c in counts), strict=True))


def _tier_by_shares(scores: np.ndarray, keys: np.ndarray | None, shares: dict[str, float]) -> np.ndarray:
    n = len(scores)
    position = np.arange(n)
    # Ties in score are broken by the key (e.g. the USCC), then by position: the same input, the same tiers.
    key_rank = position if keys is None else np.unique(np.asarray(keys), return_inverse=True)[1].reshape(-1)
    order = np.lexsort((position, key_rank, -scores))  # riskiest first
    counts = share_counts(n, shares)
    by_rank = np.repeat(np.arange(len(TIERS))[::-1], [counts[t] for t in reversed(TIERS)])  # D..D C..C B..B A..A
    codes = np.empty(n, dtype=np.int64)
    codes[order] = by_rank
    return codes


def cutoffs_from_shares(scores: np.ndarray, shares: dict[str, float]) -> dict[str, float]:
    """The lowest score of tiers B, C and D when `scores` (a month's population) are split by target shares.

    Lets a sample (e.g. the holdout) be tiered exactly as its month's population would be. A tier left
    empty by its share gets +inf: nothing reaches it.
    """
    scores = np.asarray(scores, dtype="float64")
    codes = _tier_by_shares(scores, None, shares)
    out: dict[str, float] = {}
    for i, t in enumerate(TIERS[1:], start=1):
        at_or_above = scores[codes >= i]
        out[t] = float(at_or_above.min()) if len(at_or_above) else math.inf
    return out


def _tier_by_cutoffs(scores: np.ndarray, cutoffs: dict[str, float]) -> np.ndarray:
    bounds = np.array([cutoffs[t] for t in TIERS[1:]])
    return np.searchsorted(bounds, scores, side="right")  # number of cut-offs at or below the score


def assign_tiers(
    scores: np.ndarray,
    features: pd.DataFrame,
    policy: TierPolicy,
    keys: np.ndarray | None = None,
) -> pd.DataFrame:
    """Tier by score, then the overrides in order; one row per row of `features` (same index).

    Columns: tier_by_score, tier, override (name of the override that decided the tier, or None),
    override_reason_en, override_reason_zh. An override is recorded when it sets the tier or when it moves it;
    an at_least/at_most rule already satisfied by the tier leaves the earlier record alone.
    """
    scores = np.asarray(scores, dtype="float64")
    n = len(features)
    if scores.shape != (n,):
        raise ValueError(f"scores has shape {scores.shape}, expected ({n},) like the features")
    if not np.isfinite(scores).all():
        raise ValueError("scores must be finite: a NaN or infinite score cannot be ranked into a tier")
    if keys is not None and len(keys) != n:
        raise ValueError(f"keys has length {len(keys)}, expected {n}")

    if policy.method == "target_shares":
        by_score = _tier_by_shares(scores, keys, policy.target_shares)
    else:
        by_score = _tier_by_cutoffs(scores, policy.cutoffs)

    columns = [c.indicator for o in policy.overrides for c in o.when]
    values = feature_matrix(features, columns, "the tier overrides") if columns else {}
    tier = by_score.copy()
    which = np.full(n, -1, dtype=np.int64)  # index of the deciding override
    for i, o in enumerate(policy.overrides):  # a loop over the few overrides, each vectorised over all rows
        hit = np.ones(n, dtype=bool)
        for c in o.when:
            hit &= c.mask(values[c.indicator])
        code = TIERS.index(o.tier)
        if o.action == "set":
            new = np.where(hit, code, tier)
            decided = hit
        else:
            bound = np.maximum if o.action == "at_least" else np.minimum
            new = np.where(hit, bound(tier, code), tier)
            decided = new != tier
        which[decided] = i
        tier = new

    letters = np.array(TIERS, dtype=object)
    lookup = {
        "name": [o.name for o in policy.overrides],
        "en": [o.reason_en for o in policy.overrides],
        "zh": [o.reason_zh for o in policy.overrides],
    }

    def pick(field: str) -> np.ndarray:
        # Index n_overrides (the appended None) stands for "no override".
        table = np.array([*lookup[field], None], dtype=object)
        return table[np.where(which >= 0, which, len(policy.overrides))]

    return pd.DataFrame(
        {
            "tier_by_score": letters[by_score],
            "tier": letters[tier],
            "override": pick("name"),
            "override_reason_en": pick("en"),
            "override_reason_zh": pick("zh"),
        },
        index=features.index,
    )


def share_report(tier: np.ndarray, policy: TierPolicy) -> dict[str, Any]:
    """Realised tier shares against the policy's target shares and tolerance (only meaningful for shares)."""
    tier = np.asarray(tier).astype(str)
    n = max(len(tier), 1)
    shares = {t: round(float((tier == t).sum()) / n, 4) for t in TIERS}
    if policy.method != "target_shares":
        return {"within": True, "method": policy.method, "shares": shares}
    gaps = {t: round(shares[t] - policy.target_shares[t], 4) for t in TIERS}
    return {
        "within": all(abs(g) <= policy.share_tolerance + 1e-12 for g in gaps.values()),
        "method": policy.method,
        "shares": shares,
        "targets": policy.target_shares,
        "gaps": gaps,
        "tolerance": policy.share_tolerance,
    }
