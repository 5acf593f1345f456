"""The city's problem rate estimated from the random plans (Hájek, stratified without replacement), the lift of
a targeted plan and the share of problem firms reached: against hand computations and over many draws."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from zs_risk_pipeline.lib.effectiveness import estimates


def test_two_strata_against_a_hand_computation() -> None:
    # Tier A: 4 of 100 firms drawn (π 0.04), 1 problem; tier D: 5 of 10 drawn (π 0.5), 3 problems.
    found = np.array([1, 0, 0, 0, 1, 1, 1, 0, 0])
    pi = np.array([0.04] * 4 + [0.5] * 5)
    tier = np.array(["A"] * 4 + ["D"] * 5)
    got = estimates.hajek_rate(found, pi, tier)
    # N̂ = 4/0.04 + 5/0.5 = 110; Σ y/π = 1/0.04 + 3/0.5 = 31; p̂ = 31/110.
    assert got.population == pytest.approx(110.0)
    assert got.rate == pytest.approx(31 / 110)
    # Residuals within a stratum vary as the results do: s²_A = 0.75/3 = 0.25, s²_D = 1.2/4 = 0.3.
    # V̂ = (100² × 0.96 × 0.25/4 + 10² × 0.5 × 0.3/5) / 110² = (600 + 3) / 12100.
    assert got.se == pytest.approx(math.sqrt(603 / 12100))
    # Korn–Graubard: Clopper–Pearson at n* = p̂(1 − p̂)/V̂ = (31 × 79 / 12100) / (603 / 12100) = 2449/603 ≈ 4.061
    # with x = p̂ n* ≈ 1.145 problems.
    n_eff, x = 2449 / 603, 2449 / 603 * 31 / 110
    assert got.low == pytest.approx(stats.beta.ppf(0.025, x, n_eff - x + 1))
    assert got.high == pytest.approx(stats.beta.ppf(0.975, x + 1, n_eff - x))
    assert 0 < got.low < got.rate < got.high < 1
    assert (got.n, got.strata, got.single_draw_strata) == (9, 2, 0)


def test_post_stratified_to_the_city_against_a_hand_computation() -> None:
    # The frames of the two strata above, after earlier draws of the year took 20 of the city's 120 A firms and 20 of
    # its 30 D firms: p̂ = 0.8 × 1/4 + 0.2 × 3/5 = 0.32 (the frame's 31/110 = 0.28 under-weights D);
    # V̂ = 0.8² × 0.96 × 0.25/4 + 0.2² × 0.5 × 0.3/5 = 0.0384 + 0.0012.
    found = np.array([1, 0, 0, 0, 1, 1, 1, 0, 0])
    pi = np.array([0.04] * 4 + [0.5] * 5)
    tier = np.array(["A"] * 4 + ["D"] * 5)
    got = estimates.post_stratified_rate(found, pi, tier, tier, {"A": 120, "D": 30})
    assert got is not None
    assert got.rate == pytest.approx(0.32)
    assert got.se == pytest.approx(math.sqrt(0.0396))
    assert (got.population, got.n, got.strata) == (150, 9, 2)
    assert got.low < 0.32 < got.high
    # A uniform draw post-stratified by the tier of its firms: each tier's share of the sample is replaced by its
    # share of the city (here 1/2 and 1/2 instead of 8/10 and 2/10): 0.5 × 2/8 + 0.5 × 2/2 = 0.625.
    uniform = estimates.post_stratified_rate(
        np.array([1, 1, 0, 0, 0, 0, 0, 0, 1, 1]), np.full(10, 0.1), np.zeros(10), np.array(["A"] * 8 + ["D"] * 2),
        {"A": 50, "D": 50},
    )  # fmt: skip
    assert uniform is not None and uniform.rate == pytest.approx(0.625)
    # A tier of the city without an inspection, or an inspected firm outside every post-stratum: no estimate.
    assert estimates.post_stratified_rate(found, pi, tier, tier, {"A": 120, "C": 5, "D": 30}) is None
    assert estimates.post_stratified_rate(found, pi, tier, tier, {"A": 120}) is None


def test_one_stratum_is_the_simple_random_sample() -> None:
    found = np.array([1, 0, 1, 1, 0, 0, 0, 1, 0, 0])
    got = estimates.hajek_rate(found, np.full(10, 0.2))
    # p̂ = 4/10; V̂ = (1 − 10/50) × s²/n with s² = 10 × 0.4 × 0.6 / 9.
    assert got.rate == pytest.approx(0.4)
    assert got.se == pytest.approx(math.sqrt(0.8 * (10 * 0.4 * 0.6 / 9) / 10))
    assert got.population == pytest.approx(50.0)


def test_a_stratum_drawn_whole_adds_no_variance_and_one_draw_is_counted() -> None:
    # Tier D drawn entirely (π 1): known exactly. Tier C: a single draw, no variance of its own.
    found = np.array([1, 0, 1, 1, 0])
    pi = np.array([1.0, 1.0, 1.0, 1.0, 0.1])
    tier = np.array(["D", "D", "D", "D", "C"])
    got = estimates.hajek_rate(found, pi, tier)
    assert got.rate == pytest.approx(3 / 14)
    assert got.se == 0.0 and got.single_draw_strata == 1
    # No variance estimate is not certainty: the interval falls back to Clopper–Pearson at n = 5.
    assert got.low == pytest.approx(stats.beta.ppf(0.025, 5 * 3 / 14, 5 - 5 * 3 / 14 + 1))
    assert got.low < got.rate < got.high
    whole = estimates.hajek_rate(found[:4], pi[:4], tier[:4])  # only the tier drawn whole: known exactly
    assert whole.low == whole.high == whole.rate == 0.75


def test_over_many_draws_the_estimate_is_unbiased_and_the_interval_covers() -> None:
    """A city of three tiers with known problem counts, drawn 3,000 times at the ratios of a plan."""
    sizes = {"A": 6000, "B": 3000, "D": 400}
    problems = {"A": 300, "B": 450, "D": 200}  # 5 %, 15 %, 50 %
    draws = {"A": 60, "B": 90, "D": 80}
    truth = sum(problems.values()) / sum(sizes.values())
    rng = np.random.default_rng(20241203)
    rates, covered = [], 0
    for _ in range(3000):
        found, pi, tier = [], [], []
        for t, size in sizes.items():
            population = np.zeros(size)
            population[: problems[t]] = 1
            found.append(rng.choice(population, draws[t], replace=False))
            pi.append(np.full(draws[t], draws[t] / size))
            tier.append(np.full(draws[t], t))
        got = estimates.hajek_rate(np.concatenate(found), np.concatenate(pi), np.concatenate(tier))
        rates.append(got.rate)
        covered += got.low <= truth <= got.high
    mc_se = np.std(rates) / math.sqrt(len(rates))
    assert abs(np.mean(rates) - truth) < 3 * mc_se + 1e-3
    # Nominal 95 %: about 94 % here (the normal interval: 92 %; tier A has rare problems and heavy weights).
    # The bounds lie 4 Monte Carlo standard errors from that.
    assert 0.925 <= covered / 3000 <= 0.975


def test_lift_and_share_reached() -> None:
    city = estimates.RateEstimate(
        rate=0.1, se=0.02, low=0.06, high=0.14, n=200, population=10_000, strata=4, single_draw_strata=0
    )
    assert estimates.lift(0.3, city) == pytest.approx((3.0, 0.3 / 0.14, 5.0))
    # 150 problems found of an estimated 0.1 × 10,000 = 1,000 problem firms.
    assert estimates.share_reached(150, city, 10_000) == pytest.approx((0.15, 150 / 1400, 0.25))
    nothing = estimates.RateEstimate(0.0, 0.0, 0.0, 0.0, 50, 1000.0, 1, 0)
    assert estimates.lift(0.2, nothing)[0] == math.inf
    assert math.isnan(estimates.share_reached(0, nothing, 1000)[0])
    assert estimates.share_reached(3, nothing, 1000)[0] == 1.0


@pytest.mark.parametrize(
    ("found", "pi", "message"),
    [
        ([1, 0], [0.5], "one length"),
        ([], [], "no random inspection"),
        ([1, 0], [0.5, 0.0], r"\(0, 1\]"),
        ([1, 2], [0.5, 0.5], "0 or 1"),
    ],
)
def test_bad_input_is_refused_with_a_reason(found: list, pi: list, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        estimates.hajek_rate(np.array(found), np.array(pi))
