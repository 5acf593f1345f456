"""Metrics against brute-force references (and scikit-learn when it is installed)."""

from __future__ import annotations

import numpy as np
import pytest

from zs_risk_pipeline.lib.model.metrics import brier, found_at_budget, is_increasing, ks, rate_by_tier, weighted_auc


def sample(seed: int, n: int = 60) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    score = rng.integers(0, 8, n).astype(float) + y * rng.integers(0, 3, n)  # ties, some signal
    w = rng.uniform(0.1, 5.0, n)
    return y, score, w


def auc_brute(y: np.ndarray, s: np.ndarray, w: np.ndarray) -> float:
    num = den = 0.0
    for i in range(len(y)):
        for j in range(len(y)):
            if y[i] == 1 and y[j] == 0:
                pair = w[i] * w[j]
                num += pair * (1.0 if s[i] > s[j] else 0.5 if s[i] == s[j] else 0.0)
                den += pair
    return num / den


def ks_brute(y: np.ndarray, s: np.ndarray, w: np.ndarray) -> float:
    best = 0.0
    for t in np.unique(s):
        f_pos = sum(w[i] for i in range(len(y)) if y[i] == 1 and s[i] <= t) / sum(w[y == 1])
        f_neg = sum(w[i] for i in range(len(y)) if y[i] == 0 and s[i] <= t) / sum(w[y == 0])
        best = max(best, abs(f_pos - f_neg))
    return best


@pytest.mark.parametrize("seed", range(5))
def test_auc_and_ks_equal_brute_force(seed: int) -> None:
    y, s, w = sample(seed)
    assert weighted_auc(y, s, w) == pytest.approx(auc_brute(y, s, w), abs=1e-12)
    assert weighted_auc(y, s) == pytest.approx(auc_brute(y, s, np.ones(len(y))), abs=1e-12)
    assert ks(y, s, w) == pytest.approx(ks_brute(y, s, w), abs=1e-12)
    assert ks(y, s) == pytest.approx(ks_brute(y, s, np.ones(len(y))), abs=1e-12)


def test_auc_ks_edge_cases() -> None:
    y = np.array([0, 0, 1, 1])
    assert weighted_auc(y, np.array([1, 2, 3, 4])) == 1.0
    assert weighted_auc(y, np.array([4, 3, 2, 1])) == 0.0
    assert weighted_auc(y, np.array([1, 1, 1, 1])) == 0.5  # all ties count half
    assert ks(y, np.array([1, 2, 3, 4])) == 1.0
    assert ks(y, np.array([1, 1, 1, 1])) == 0.0
    assert np.isnan(weighted_auc(np.ones(3), np.arange(3)))
    assert np.isnan(ks(np.zeros(3), np.arange(3)))
    with pytest.raises(ValueError, match="0 and 1"):
        weighted_auc(np.array([0, 2]), np.array([0.1, 0.2]))
    with pytest.raises(ValueError, match="lengths"):
        ks(np.array([0, 1]), np.array([0.1]))


def test_brier_equals_brute_force() -> None:
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 50)
    p = rng.random(50)
    w = rng.uniform(0, 3, 50)
    expected = sum(wi * (pi - yi) ** 2 for yi, pi, wi in zip(y, p, w, strict=True)) / sum(w)
    assert brier(y, p, w) == pytest.approx(expected)
    assert brier(y, p) == pytest.approx(np.mean((p - y) ** 2))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        brier(np.array([1]), np.array([1.5]))


def test_rate_by_tier_equals_brute_force_and_order() -> None:
    rng = np.random.default_rng(5)
    tier = rng.choice(list("ABCD"), 80)
    y = rng.integers(0, 2, 80)
    w = rng.uniform(0.5, 2, 80)
    rates = rate_by_tier(y, tier, w)
    assert list(rates) == sorted(set(tier))
    for t, r in rates.items():
        sel = tier == t
        assert r == pytest.approx(sum(w[sel] * y[sel]) / sum(w[sel]))
    assert rate_by_tier(np.array([1, 0, 0]), np.array(["D", "A", "D"])) == {"A": 0.0, "D": 0.5}
    assert np.isnan(rate_by_tier(np.array([1, 0]), np.array(["A", "B"]), np.array([1.0, 0.0]))["B"])


def test_is_increasing() -> None:
    assert is_increasing({"A": 0.05, "B": 0.1, "C": 0.2, "D": 0.4})
    assert is_increasing({"D": 0.4, "A": 0.05})  # order comes from `order`, a missing tier is skipped
    assert not is_increasing({"A": 0.05, "B": 0.3, "C": 0.2, "D": 0.4})
    assert not is_increasing({"A": 0.1, "B": 0.1})
    assert is_increasing({"A": 0.1, "B": 0.1}, strict=False)
    assert not is_increasing({"A": 0.1, "B": float("nan")})
    assert is_increasing({"D": 0.1, "A": 0.3}, order="DCBA")


def test_found_at_budget_rewards_the_tiers_the_ratios_inspect() -> None:
    # Holdout: A inspections 1 of 4 found (weights 10), D 3 of 4 (weights 1).
    y = np.array([1, 0, 0, 0, 1, 1, 1, 0])
    tier = np.array(["A"] * 4 + ["D"] * 4)
    w = np.array([10.0] * 4 + [1.0] * 4)
    ratios = {"A": 0.03, "B": 0.05, "C": 0.2, "D": 0.5}
    sizes = {"A": 1000, "D": 100}  # no firm in B or C: their ratios buy nothing
    got = found_at_budget(y, tier, w, ratios, sizes)
    # 30 A inspections × 0.25 + 50 D inspections × 0.75 = 7.5 + 37.5 problems for 80 inspections.
    assert got == pytest.approx({"found": 45.0, "budget": 80.0, "hit_rate": 45.0 / 80.0})
    # A tier the ratios inspect but the holdout never saw cannot be measured: NaN, so it cannot win a comparison.
    assert np.isnan(found_at_budget(y, tier, w, ratios, {**sizes, "C": 10})["found"])
    # The same ranking quality, but a scorer whose D tier holds the problems finds more at the same budget.
    worse = found_at_budget(y, np.array(["D"] * 4 + ["A"] * 4), w, ratios, sizes)
    assert worse["found"] < got["found"]
