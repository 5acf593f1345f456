"""The statistics of the high-risk flags (lib/rollups/hotspots.py): the binomial test and BH q-values, the funnel
limits, φ and the beta-binomial shrinkage against hand computations and scipy/statsmodels; a planted hot cell and
a planted rising cell found and cells at the city rate left alone; the false discovery rate of null layers;
persistence and status; and config/hotspots.yaml refused field by field."""

from __future__ import annotations

import dataclasses
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from scipy import stats

from zs_risk_pipeline.lib.policy import base, folder
from zs_risk_pipeline.lib.policy.hotspots import Eligibility, HotspotPolicy, HotspotsFile
from zs_risk_pipeline.lib.rollups import hotspots
from zs_risk_pipeline_tests.conftest import policy_file, yaml_variant

MONTH = "2024-06"
HISTORY_MONTHS = ["2024-01", "2024-02", "2024-03", "2024-04", "2024-05", "2024-06"]


@pytest.fixture(scope="module")
def policy() -> HotspotPolicy:
    return folder.current().hotspots


def layer(n: np.ndarray, k: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({"cell": [f"c{i:04d}" for i in range(len(n))], "n": n, "k": k})


def city(
    rng: np.random.Generator, cells: int, p0: float, strength: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """A layer like town × division: skewed sizes (median ~70 enterprises, a few thousand at most), every cell's
    C+D count drawn at the city rate, or at a rate of its own drawn from Beta(p0·strength, (1 − p0)·strength) for
    cells that differ as real ones do."""
    n = np.clip(np.rint(rng.lognormal(4.3, 1.0, cells)), 1, 5000).astype(np.int64)
    rate = p0 if strength is None else rng.beta(p0 * strength, (1 - p0) * strength, cells)
    return n, rng.binomial(n, rate)


def history_of(cells: pd.DataFrame, rng: np.random.Generator, p0: float) -> pd.DataFrame:
    """Six months of every cell at the city rate; the last month is the layer itself."""
    months = []
    for month in HISTORY_MONTHS[:-1]:
        months.append(cells.assign(month=month, k=rng.binomial(cells["n"].to_numpy(), p0)))
    months.append(cells.assign(month=MONTH))
    return pd.concat(months, ignore_index=True)


# --- the tests of significance ----------------------------------------------------------------------------


def test_binomial_p_and_bh_q_against_a_hand_case() -> None:
    # p0 = 1/2: P(X ≥ 4 | n 4) = 1/16, P(X ≥ 3 | n 4) = 5/16, P(X ≥ 2 | n 2) = 1/4, P(X ≥ 0 | n 3) = 1.
    k, n = np.array([4, 3, 2, 0]), np.array([4, 4, 2, 3])
    p = hotspots.binomial_p(k, n, 0.5)
    assert p == pytest.approx([1 / 16, 5 / 16, 1 / 4, 1.0])
    # BH over m = 4, sorted 1/16, 1/4, 5/16, 1: q = min over j ≥ i of p_(j) m / j
    # q(1) = min(1/16·4, q(2)) = 1/4; q(2) = min(1/4·2, q(3)) = 5/12; q(3) = 5/16·4/3 = 5/12; q(4) = 1.
    assert hotspots.bh_q(p) == pytest.approx([1 / 4, 5 / 12, 5 / 12, 1.0])
    # a cell left out of the test spends nothing: BH over the other three only (sorted 1/16, 1/4, 5/16)
    q = hotspots.bh_q(p, tested=np.array([True, True, True, False]))
    assert q[:3] == pytest.approx([3 / 16, 5 / 16, 5 / 16]) and math.isnan(q[3])


def test_binomial_p_is_scipys_exact_test_and_extends_to_effective_counts() -> None:
    k, n = np.array([0, 3, 12, 30, 250]), np.array([15, 10, 80, 200, 1000])
    expected = [stats.binomtest(int(x), int(m), 0.1, alternative="greater").pvalue for x, m in zip(k, n, strict=True)]
    assert hotspots.binomial_p(k, n, 0.1) == pytest.approx(expected, rel=1e-9)
    # weighted inspections: 2.5 effective problems in 10 lies between 2 and 3
    low, mid, high = hotspots.binomial_p(np.array([3.0, 2.5, 2.0]), np.full(3, 10.0), 0.1)
    assert low < mid < high
    assert math.isnan(hotspots.binomial_p(np.array([0]), np.array([0]), 0.1)[0])


# --- the funnel ---------------------------------------------------------------------------------------------


def binomial_cdf(r: int, n: int, p: float) -> float:
    return sum(math.comb(n, j) * p**j * (1 - p) ** (n - j) for j in range(r + 1))


def test_funnel_limits_are_the_exact_binomial_quantiles() -> None:
    n, p0 = np.array([10, 100, 1000]), 0.2
    limits = hotspots.funnel_limits(n, p0)
    for name, q in (("lower_95", 0.025), ("upper_95", 0.975), ("lower_998", 0.001), ("upper_998", 0.999)):
        assert limits[name] == pytest.approx(stats.binom.ppf(q, n, p0) / n), name
    # by hand for n = 100: the upper 95 % limit is the smallest r with P(X ≤ r) ≥ 0.975
    r = round(limits["upper_95"][1] * 100)
    assert binomial_cdf(r - 1, 100, p0) < 0.975 <= binomial_cdf(r, 100, p0)
    assert r == 28
    r = round(limits["upper_998"][1] * 100)
    assert binomial_cdf(r - 1, 100, p0) < 0.999 <= binomial_cdf(r, 100, p0)
    assert r == 33
    # the funnel narrows as n grows
    assert (np.diff(limits["upper_95"]) < 0).all() and (np.diff(limits["lower_95"]) > 0).all()


def test_the_funnel_flag_is_above_the_limits_not_on_them(policy: HotspotPolicy) -> None:
    # 23 background cells at 20 % and three of n = 100 at 28 (on the 95 % limit), 29 (above it), 34 (above 99.8 %)
    n = np.array([100] * 26)
    k = np.array([20] * 23 + [28, 29, 34])
    got = hotspots.assess_layer(layer(n, k), ["cell"], policy, measure="cd_share", month=MONTH, p0=0.2).cells
    assert got["funnel_flag"].tolist()[-4:] == ["none", "none", "95", "99.8"]
    assert (got["limits"] == "exact").all()  # φ is not above 1: the exact limits stand


# --- over-dispersion ---------------------------------------------------------------------------------------


def test_phi_on_a_hand_case() -> None:
    # n = 100, p0 = 1/2: sd 0.05, z = (k − 50)/5
    k = np.array([50, 55, 45, 60, 40, 50, 65, 35, 52, 80])
    n = np.full(10, 100)
    z = [0, 1, -1, 2, -2, 0, 3, -3, 0.4, 6]
    assert hotspots.z_scores(k, n, 0.5) == pytest.approx(z)
    od = hotspots.overdispersion(k, n, 0.5, winsor=0.1, level=0.05, min_cells=10, inflate="chi_square")
    # winsorising 10 % of 10 at each end: −3 → −2 and 6 → 3; Σzw² = 0+1+1+4+4+0+9+4+0.16+9 = 32.16
    assert od.phi == pytest.approx(3.216)
    # the test is of Σz² as it is: 64.16 against χ²(9)
    assert od.statistic == pytest.approx(64.16) and od.df == 9
    assert od.p_value == pytest.approx(stats.chi2.sf(64.16, 9)) and od.inflated
    never = hotspots.overdispersion(k, n, 0.5, winsor=0.1, level=0.05, min_cells=10, inflate="never")
    assert never.phi == pytest.approx(3.216) and not never.inflated
    few = hotspots.overdispersion(k[:9], n[:9], 0.5, winsor=0.1, level=0.05, min_cells=10, inflate="chi_square")
    assert math.isnan(few.phi) and not few.inflated


def test_an_over_dispersed_layer_inflates_its_limits_by_root_phi(policy: HotspotPolicy) -> None:
    k = np.array([50, 55, 45, 60, 40, 50, 65, 35, 52, 80])
    cells = layer(np.full(10, 100), k)
    got = hotspots.assess_layer(cells, ["cell"], policy, measure="cd_share", month=MONTH, p0=0.5)
    exact = hotspots.funnel_limits(np.full(10, 100), 0.5)
    assert (got.cells["limits"] == "inflated").all() and got.summary.overdispersion.inflated
    assert got.cells["upper_95"].to_numpy() == pytest.approx(0.5 + math.sqrt(3.216) * (exact["upper_95"] - 0.5))
    # 80 of 100 is above even the inflated 99.8 % limit (0.5 + 1.79 × 0.15 = 0.77); 65 of 100 no longer is
    assert got.cells["funnel_flag"].tolist()[-1] == "99.8" and got.cells["funnel_flag"].tolist()[6] == "none"


# --- shrinkage ---------------------------------------------------------------------------------------------


def test_shrinkage_prior_by_the_method_of_moments_by_hand() -> None:
    n, k = np.array([100, 100, 400, 400]), np.array([10, 30, 40, 120])  # rates 0.1, 0.3, 0.1, 0.3; Σk/Σn = 0.2
    # S = Σ n (r − 0.2)² = 100·0.01·2 + 400·0.01·2 = 10; p0(1 − p0) = 0.16
    # p0 given: τ² = (S − m·0.16)/(N − m) = (10 − 0.64)/996
    given = hotspots.beta_binomial_prior(k, n, 0.2, estimated=False, max_strength=1e5)
    tau2 = 9.36 / 996
    assert given.tau2 == pytest.approx(tau2)
    assert given.strength == pytest.approx(0.16 / tau2 - 1) and not given.capped
    assert given.a == pytest.approx(0.2 * (0.16 / tau2 - 1)) and given.b == pytest.approx(0.8 * (0.16 / tau2 - 1))
    # p0 = Σk/Σn estimated: τ² = (S − (m − 1)·0.16)/(N − Σn²/N − (m − 1)) = (10 − 0.48)/(1000 − 340 − 3)
    estimated = hotspots.beta_binomial_prior(k, n, 0.2, estimated=True, max_strength=1e5)
    assert estimated.tau2 == pytest.approx(9.52 / 657)

    shrunk, exceedance = hotspots.shrink(k, n, given, 0.2, 1.2)
    a, b = given.a, given.b
    assert shrunk == pytest.approx((k + a) / (n + a + b))
    assert exceedance[3] == pytest.approx(stats.beta.sf(0.24, 120 + a, 280 + b))
    # the same raw rate 0.3: the small cell is pulled toward p0 more than the large one
    assert abs(shrunk[1] - 0.2) < abs(shrunk[3] - 0.2) < 0.1
    assert shrunk[1] - 0.2 == pytest.approx(0.1 * 100 / (100 + a + b))
    assert exceedance[3] > exceedance[1]


def test_cells_that_vary_no_more_than_noise_all_sit_at_the_city_rate() -> None:
    n, k = np.array([100, 200, 400, 50]), np.array([20, 40, 80, 10])  # every rate exactly 0.2: S = 0
    prior = hotspots.beta_binomial_prior(k, n, 0.2, estimated=True, max_strength=1e5)
    assert prior.tau2 < 0 and prior.capped and prior.strength == pytest.approx(1e5)
    shrunk, exceedance = hotspots.shrink(k, n, prior, 0.2, 1.2)
    assert shrunk == pytest.approx(0.2) and (exceedance < 1e-6).all()


# --- the flags on a city ------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_a_planted_hot_cell_is_flagged_and_a_cell_at_the_city_rate_is_not(policy: HotspotPolicy, seed: int) -> None:
    rng = np.random.default_rng(seed)
    n, k = city(rng, 2000, 0.08)
    n[:2], k[:2] = 1000, (240, 80)  # cell 0 at 3 × the city rate, cell 1 as large at the city rate
    got = hotspots.assess_layer(layer(n, k), ["cell"], policy, measure="cd_share", month=MONTH)
    cells, summary = got.cells, got.summary
    hot, plain = cells.iloc[0], cells.iloc[1]
    assert hot["high_risk"] and hot["q"] < 1e-6 and hot["exceedance"] > 0.99 and hot["funnel_flag"] == "99.8"
    assert hot["status"] == "new" and not hot["persistent"]  # no history: flagged for the first time
    assert hot["reason_en"].startswith("high risk: C+D share 24.0 % vs city ") and "(n 1000, k 240)" in hot["reason_en"]
    assert hot["reason_zh"].startswith("高风险：C+D类占比 24.0%，全市 ")
    assert not plain["high_risk"] and plain["reason_en"].startswith("not significant: C+D share 8.0 %")
    assert summary.high_risk == 1 and cells["high_risk"].sum() == 1
    assert summary.tested == int(((n >= 30) & (n * summary.p0 >= 5)).sum()) < summary.cells
    small = cells[cells["n"] < 30].iloc[0]
    assert not small["tested"] and math.isnan(small["q"]) and small["reason_en"].startswith("not tested: n ")
    # the shrunk rate ranks the hot cell first, never a small cell with a lucky raw share
    assert cells["shrunk"].idxmax() == 0 and cells["rate"].idxmax() != 0


def test_a_null_layer_flags_at_the_false_discovery_rate(policy: HotspotPolicy) -> None:
    """50 months of a city where every cell is at the city rate, six months of history each: flags are false."""
    high, rising, significant = [], [], []
    for seed in range(50):
        rng = np.random.default_rng(1000 + seed)
        n, k = city(rng, 2000, 0.08)
        cells = layer(n, k)
        got = hotspots.assess_layer(
            cells, ["cell"], policy, measure="cd_share", month=MONTH, history=history_of(cells, rng, 0.08)
        )
        high.append(got.summary.high_risk)
        rising.append(got.summary.rising)
        significant.append(got.summary.significant)
    # BH under the complete null: P(any discovery) ≤ alpha, so on average ≤ 0.05 (0.10 for the trend) per layer
    assert np.mean(significant) <= 0.2 and np.mean(high) <= 0.2
    assert np.mean(rising) <= 0.3
    assert max(high) <= 2 and max(rising) <= 2


def test_the_policys_thresholds_decide(policy: HotspotPolicy) -> None:
    rng = np.random.default_rng(8)
    n, k = city(rng, 500, 0.08, strength=200)  # cells differ: the prior is worth about 200 enterprises
    n[0], k[0] = 150, 28  # 18.7 % in 150: significant, and probably above 1.2 × the city rate
    cells = layer(n, k)
    got = hotspots.assess_layer(cells, ["cell"], policy, measure="cd_share", month=MONTH)
    assert 150 < got.summary.prior.strength < 250
    shipped = got.cells.iloc[0]
    assert shipped["high_risk"] and shipped["q"] < 0.05 and 0.8 < shipped["exceedance"] < 0.999
    stricter = dataclasses.replace(policy, min_exceedance=0.999)
    strict = hotspots.assess_layer(cells, ["cell"], stricter, measure="cd_share", month=MONTH).cells.iloc[0]
    assert not strict["high_risk"] and strict["reason_en"].startswith("not material: ")
    assert strict["reason_zh"].startswith("超出不实质：")
    larger = dataclasses.replace(policy, eligibility={**policy.eligibility, "cd_share": Eligibility(200, 5)})
    small = hotspots.assess_layer(cells, ["cell"], larger, measure="cd_share", month=MONTH).cells.iloc[0]
    assert not small["tested"] and small["reason_en"] == "not tested: n 150 < 200"
    assert small["reason_zh"] == "未检验：样本不足（n=150<200）"
    # the problem-found rate has its own minimum counts and wording
    rate = hotspots.assess_layer(cells, ["cell"], larger, measure="problem_rate", month=MONTH).cells.iloc[0]
    assert rate["tested"] and rate["reason_en"].startswith("high risk: problem-found rate 18.7 % vs city")


# --- the trend ----------------------------------------------------------------------------------------------


def statsmodels_slope(k: np.ndarray, n: np.ndarray) -> tuple[float, float, np.ndarray]:
    t = np.arange(len(n), dtype="float64")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = sm.GLM(np.c_[k, n - k], sm.add_constant(t), family=sm.families.Binomial()).fit()
    return float(fit.params[1]), float(fit.bse[1]), fit.predict(sm.add_constant(t))


def test_the_trend_test_finds_a_planted_rising_cell_and_not_a_flat_one(policy: HotspotPolicy) -> None:
    rng = np.random.default_rng(11)
    n, k = city(rng, 300, 0.08)
    cells = layer(n, k)
    history = history_of(cells, rng, 0.08)
    rising_k = np.array([40, 46, 52, 60, 68, 80])  # 8 % → 16 % of 500 over six months
    flat_k = np.array([41, 38, 40, 42, 39, 40])
    for cell, counts in (("c0000", rising_k), ("c0001", flat_k)):
        history.loc[history["cell"] == cell, ["n", "k"]] = np.c_[np.full(6, 500), counts]
        cells.loc[cells["cell"] == cell, ["n", "k"]] = (500, counts[-1])
    got = hotspots.assess_layer(cells, ["cell"], policy, measure="cd_share", month=MONTH, history=history).cells
    up, flat = got.iloc[0], got.iloc[1]
    assert up["rising"] and up["rising_status"] == "new" and up["slope_q"] < 0.01
    assert not flat["rising"] and got["rising"].sum() == 1
    assert "; rising: +0.1" in up["reason_en"] and "；上升：每月 +0.1" in up["reason_zh"]
    # the batch fit is statsmodels' GLM Binomial: slope, its standard error, the one-sided p and the fitted increase
    for row, counts in ((up, rising_k), (flat, flat_k)):
        slope, se, fitted = statsmodels_slope(counts.astype(float), np.full(6, 500.0))
        assert row["slope"] == pytest.approx(slope, rel=1e-5)
        assert row["slope_se"] == pytest.approx(se, rel=1e-4)
        assert row["slope_p"] == pytest.approx(stats.norm.sf(slope / se), rel=1e-5)
        assert row["increase"] == pytest.approx(fitted[-1] / fitted[0] - 1, rel=1e-6)
        assert row["trend_months"] == 6


def test_the_batch_fit_matches_statsmodels_cell_by_cell() -> None:
    rng = np.random.default_rng(5)
    n = rng.integers(0, 80, size=(200, 6)).astype(float)
    rate = np.clip(rng.uniform(0.03, 0.4, (200, 1)) * np.exp(rng.normal(0, 0.2, (200, 1)) * np.arange(6)), 0, 0.95)
    k = rng.binomial(n.astype(int), rate).astype(float)
    t = np.arange(6, dtype="float64")
    _, slope, se, ok = hotspots.logistic_trend(k, n, t)
    checked = 0
    for i in np.flatnonzero(ok):
        keep = n[i] > 0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            counts = np.c_[k[i, keep], n[i, keep] - k[i, keep]]
            fit = sm.GLM(counts, sm.add_constant(t[keep]), family=sm.families.Binomial()).fit()
        assert slope[i] == pytest.approx(fit.params[1], rel=1e-4, abs=1e-6)
        assert se[i] == pytest.approx(fit.bse[1], rel=1e-4)
        checked += 1
    assert checked > 190


def test_a_cell_whose_months_separate_has_no_trend() -> None:
    # no C+D for five months, then three: the maximum likelihood slope is infinite (statsmodels returns a huge
    # slope with a larger standard error); the cell is not estimable and never rising
    history = pd.DataFrame({"cell": "x", "month": HISTORY_MONTHS, "n": 50, "k": [0, 0, 0, 0, 0, 3]})
    history = pd.concat([history, pd.DataFrame({"cell": "y", "month": HISTORY_MONTHS[2:], "n": 50, "k": [1, 2, 3, 4]})])
    got = hotspots.trend(history, ["cell"], MONTH, window_months=6, min_months=4).set_index("cell")
    assert not got.loc["x", "trend_estimable"] and math.isnan(got.loc["x", "slope"])
    # four months of a younger cell are enough (min_months 4), three would not be
    assert got.loc["y", "trend_estimable"] and got.loc["y", "trend_months"] == 4
    young = hotspots.trend(history, ["cell"], MONTH, window_months=6, min_months=5).set_index("cell")
    assert not young.loc["y", "trend_estimable"]
    # months outside the window do not count: a month before 2024-01 is ignored
    older = pd.concat([history, pd.DataFrame({"cell": ["y"], "month": ["2023-12"], "n": [50], "k": [50]})])
    assert hotspots.trend(older, ["cell"], MONTH, window_months=6, min_months=4).set_index("cell").loc[
        "y", "slope"
    ] == pytest.approx(got.loc["y", "slope"])


# --- history of the flags -----------------------------------------------------------------------------------


def test_persistence_new_persisting_and_resolved(policy: HotspotPolicy) -> None:
    rng = np.random.default_rng(21)
    n, k = city(rng, 400, 0.08)
    n[:4], k[:4] = 1000, (240, 240, 80, 240)  # A, B and D hot this month, C at the city rate
    cells = layer(n, k)
    a, b, c, d = cells["cell"].iloc[:4]
    flag_history = pd.DataFrame(
        {
            "cell": [a, a, b, c, d, b],
            "month": ["2024-05", "2024-04", "2024-04", "2024-05", "2024-04", "2024-03"],
            "high_risk": [True, True, False, True, True, True],
            "rising": [True, False, False, False, False, False],
        }
    )
    got = hotspots.assess_layer(
        cells, ["cell"], policy, measure="cd_share", month=MONTH, flag_history=flag_history
    ).cells.set_index("cell")
    assert got.loc[[a, b, c, d], "high_risk"].tolist() == [True, True, False, True]
    assert got.loc[[a, b, c, d], "status"].tolist() == ["persisting", "new", "resolved", "new"]
    # held in ≥ 2 of the last 3 months, this one included: A (3), D (2: April and June); B's March is too old,
    # and C, flagged in May, is no longer flagged
    assert got.loc[[a, b, c, d], "months_flagged"].tolist() == [3, 1, 1, 2]
    assert got.loc[[a, b, c, d], "persistent"].tolist() == [True, False, False, True]
    assert got.loc[a, "rising_status"] == "resolved"  # rising in May, no history of trends given now
    assert got.loc[a, "reason_en"].endswith("flagged 3 of the last 3 months")
    assert got.loc[d, "reason_zh"].endswith("近3个月中2个月被标记")
    assert hotspots.flag_status(
        np.array([True, True, False, False]), np.array([False, True, True, False])
    ).tolist() == [
        "new",
        "persisting",
        "resolved",
        "",
    ]


def test_bad_input_is_refused(policy: HotspotPolicy) -> None:
    with pytest.raises(ValueError, match="lists a cell twice"):
        hotspots.assess_layer(layer(np.array([5, 5]), np.array([1, 1])).assign(cell="x"), ["cell"], policy,
                              measure="cd_share", month=MONTH)  # fmt: skip
    with pytest.raises(ValueError, match="0 ≤ k ≤ n"):
        hotspots.assess_layer(layer(np.array([5]), np.array([6])), ["cell"], policy, measure="cd_share", month=MONTH)
    with pytest.raises(ValueError, match="unknown measure"):
        hotspots.assess_layer(layer(np.array([5]), np.array([1])), ["cell"], policy, measure="d_share", month=MONTH)
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        hotspots.assess_layer(layer(np.array([5]), np.array([0])), ["cell"], policy, measure="cd_share", month=MONTH)


# --- config/hotspots.yaml -----------------------------------------------------------------------------------


def test_the_shipped_thresholds_are_read(policy: HotspotPolicy) -> None:
    assert (policy.alpha, policy.factor, policy.min_exceedance) == (0.05, 1.2, 0.8)
    assert policy.eligibility["cd_share"].min_n == 30 and policy.eligibility["problem_rate"].min_expected == 5
    assert (policy.trend.window_months, policy.trend.alpha, policy.trend.min_increase) == (6, 0.1, 0.2)
    assert (policy.persistence_months, policy.persistence_min_flagged) == (3, 2)
    assert policy.overdispersion.inflate == "chi_square" and policy.overdispersion.winsor == 0.1


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda d: d["significance"].update(alpha=0.05),
            'significance.alpha: must be a decimal string such as "0.05" in (0, 1), got 0.05 (quote it in YAML',
        ),
        (lambda d: d["significance"].update(alpha="1"), "significance.alpha: must be in (0, 1), got '1'"),
        (lambda d: d["materiality"].update(factor="0.9"), "materiality.factor: must be in [1, 10], got '0.9'"),
        (lambda d: d["materiality"].update(max_prior_strength=0), "materiality.max_prior_strength: must be a positive"),
        (lambda d: d["eligibility"].pop("problem_rate"), "eligibility: lacks ['problem_rate']"),
        (lambda d: d["eligibility"].update(d_share=d["eligibility"]["cd_share"]), "eligibility: unknown measure(s)"),
        (lambda d: d["eligibility"]["cd_share"].update(min_n=2.5), "eligibility.cd_share.min_n: must be an integer"),
        (
            lambda d: d["funnel"]["overdispersion"].update(inflate="sometimes"),
            "funnel.overdispersion.inflate: 'sometimes' not in ['chi_square', 'never']",
        ),
        (lambda d: d["funnel"]["overdispersion"].update(winsor="0.5"), "funnel.overdispersion.winsor: must be in"),
        (lambda d: d["trend"].update(min_months=7), "trend.min_months: (7) must not exceed window_months (6)"),
        (lambda d: d["trend"].update(window="6"), "trend.window: unknown key"),
        (lambda d: d["persistence"].update(min_flagged=4), "persistence.min_flagged: (4) must not exceed months (3)"),
        (lambda d: d.pop("trend"), "trend: is required"),
    ],
)
def test_config_errors_name_the_field(tmp_path: Path, edit, message: str) -> None:
    path = yaml_variant(tmp_path, policy_file("hotspots.yaml"), edit)
    with pytest.raises(base.PolicyError) as err:
        base.load_file(HotspotsFile, path)
    text = str(err.value)
    assert text.startswith("hotspots.yaml: ") and "\n" not in text
    assert message in text
