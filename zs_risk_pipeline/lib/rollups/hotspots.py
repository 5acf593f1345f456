"""High-risk cells of a rollup layer (高风险区域、高风险行业): the statistics of the monthly flags (综合研判).

A layer is one cut of one month's rollup (the 23 towns, the GB/T 4754 sections, town × division, ...): one row per
cell with `n` (enterprises alive, or effective random inspections) and `k` (C+D-tier enterprises, or problems
found, weighted 1/π), compared with the city rate p0 of the month (Σk/Σn over the layer unless given). Up to a few
thousand cells, most of them small, so a raw ranking is noise; every cell gets its evidence (analysis.md §1.2-1.4):

- significant: the exact one-sided binomial test of k against Bin(n, p0), P(X ≥ k) = I_{p0}(k, n − k + 1) (the
  regularised incomplete beta, scipy's beta.cdf; exact for whole counts and its continuous extension for the
  effective counts of weighted inspections), and the Benjamini–Hochberg q-value across the layer's tested cells
  (statsmodels multipletests fdr_bh). Only cells with n ≥ min_n and n·p0 ≥ min_expected are tested: the filter
  uses n and p0, never k, so the false discovery rate stays controlled (Bourgon, Gentleman & Huber, PNAS 2010).
- funnel plot (Spiegelhalter, Stat Med 2005): the exact binomial 95 % and 99.8 % limits binom.ppf(q, n, p0)/n (at
  the nearest whole n for effective counts) and the funnel flag none/95/99.8 above them. Over-dispersion:
  z = (r − p0)/√(p0(1 − p0)/n) over the m tested cells, φ = mean(z²) after winsorising z at both ends
  (Spiegelhalter, Qual Saf Health Care 2005), so that the hot cells themselves do not widen the limits meant to
  catch them. When φ > 1 and Σz² (not winsorised: under the null E[z²] = 1 in every cell, where winsorising 10 %
  at each end gives E ≈ 0.68) exceeds the χ²(m − 1) quantile, the limits are inflated by √φ around p0 (which
  limits are in force is in the column `limits`).
- material: the empirical-Bayes beta-binomial posterior. The prior has mean p0 and the between-cell variance τ²
  by the method of moments, S = Σ n_i (r_i − p0)² over the cells with n > 0 (m of them, N = Σ n_i):
      p0 estimated from the layer:  E[S] = (m − 1) p0(1 − p0) + τ² (N − Σ n_i²/N − (m − 1))
      p0 given:                     E[S] = m p0(1 − p0) + τ² (N − m)
  solved for τ², then a + b = p0(1 − p0)/τ² − 1, capped at max_prior_strength; when τ² ≤ 0 (the cells vary no
  more than binomial noise) the cap itself, so every cell sits at p0 unless its own n outweighs it. Posterior
  Beta(k + a, n − k + b): the shrunk rate (k + a)/(n + a + b) and the exceedance P(rate > factor × p0).
- rising: per cell, the binomial GLM logit(rate_t) = β0 + β1 t over the last window_months months (statsmodels
  GLM Binomial on (k, n − k), month index t), its slope β1 a month and the one-sided Wald p-value of β1 > 0, BH
  across the tested cells, and the fitted relative increase rate(M)/rate(M − window + 1) − 1. The fits are the
  same maximum likelihood as statsmodels' (the tests compare them), by Newton-Raphson on all cells at once: a
  loop of statsmodels GLM fits takes 3–5 s for 2,200 cells × 6 months on 2 busy cores, the batch 20 ms, and the
  month's flags run on up to ten layers. A cell whose months separate (no C+D for five months, then some) has
  no finite slope and is not estimable.

Flags: high_risk = tested AND q < alpha AND P(rate > factor × p0) > min_exceedance ("significant and material");
rising = tested AND slope > 0 AND slope q < trend alpha AND increase ≥ min_increase; persistent = high-risk this
month and in ≥ min_flagged of the last `months` months (this one included), from the flags of earlier months;
status against the month before: new / persisting / resolved. Each cell carries its reason in English and
Chinese. Thresholds: config/hotspots.yaml (lib/policy/hotspots.py).

Plain numpy, pandas, scipy and statsmodels over cells (never over enterprises), no Dagster.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special, stats
from scipy.stats import mstats
from statsmodels.stats.multitest import multipletests

from zs_risk_pipeline.lib.core.month import Month
from zs_risk_pipeline.lib.policy.hotspots import MEASURES, HotspotPolicy

# The measure's name in the reasons (English, Chinese).
MEASURE_LABELS = {"cd_share": ("C+D share", "C+D类占比"), "problem_rate": ("problem-found rate", "问题发现率")}
# The funnel's two-sided levels (Spiegelhalter 2005: about 2 and 3 standard deviations) by the flag they give.
FUNNEL_LEVELS = {"95": 0.95, "99.8": 0.998}
# The status in Chinese, for the lists and the page (持续 is the persistent flag, not this status).
STATUS_ZH = {"new": "新增", "persisting": "延续", "resolved": "解除", "": ""}
_MAX_ITER = 100  # Newton steps of the trend fits; a fit converges in under 10 unless its months separate
_MAX_SLOPE = 20.0  # |logit slope| a month beyond which a fit is taken as separated (e^20 a month is no trend)
_MIN_STRENGTH = 1e-6  # a + b of the prior at least (a layer varying beyond any beta: the cells keep their own)


@dataclass(frozen=True)
class Overdispersion:
    """φ of a layer's tested cells and whether the funnel limits are inflated by √φ."""

    phi: float  # winsorised mean of z²; NaN with fewer than min_cells tested cells
    statistic: float  # Σz² of the z-scores as they are
    df: int  # m − 1
    p_value: float  # P(χ²(m − 1) ≥ Σz²)
    inflated: bool
    cells: int  # m


@dataclass(frozen=True)
class BetaPrior:
    """The beta prior of a layer's cell rates, by the method of moments."""

    a: float
    b: float
    tau2: float  # between-cell variance of the true rates (≤ 0 or NaN: not above binomial noise)
    capped: bool  # a + b is max_prior_strength: the cells do not vary enough to fit it

    @property
    def strength(self) -> float:
        return self.a + self.b


@dataclass(frozen=True)
class LayerSummary:
    """One layer's month in numbers: what the flags rest on and how many there are."""

    measure: str
    month: str
    p0: float
    p0_estimated: bool  # Σk/Σn over the layer, rather than given
    cells: int
    tested: int
    alpha: float
    significant: int  # q < alpha
    high_risk: int  # significant and material
    trend_tested: int
    rising: int
    overdispersion: Overdispersion
    prior: BetaPrior

    @property
    def expected_false_flags(self) -> float:
        """The BH bound on high-risk flags that are false: at most alpha × the significant cells, on average."""
        return self.alpha * self.significant


@dataclass(frozen=True)
class LayerAssessment:
    cells: pd.DataFrame  # the layer's cells in their order, with every evidence column
    summary: LayerSummary


# --- the statistics, each on arrays of cells -----------------------------------------------------------------


def city_rate(k: np.ndarray, n: np.ndarray) -> float:
    """Σk/Σn: the city rate of a layer whose cells partition the city."""
    total = float(np.sum(n))
    if total <= 0:
        raise ValueError("the layer has no enterprises (Σn = 0): no city rate")
    return float(np.sum(k)) / total


def binomial_p(k: np.ndarray, n: np.ndarray, p0: float) -> np.ndarray:
    """One-sided exact binomial p-values P(X ≥ k), X ~ Bin(n, p0), per cell (NaN where n = 0). Equal to
    scipy.stats.binomtest(k, n, p0, alternative="greater").pvalue for whole counts."""
    k, n = np.asarray(k, dtype="float64"), np.asarray(n, dtype="float64")
    p = np.full(k.shape, np.nan)
    p[(n > 0) & (k <= 0)] = 1.0
    pos = (n > 0) & (k > 0)
    # P(Bin(n, p0) ≥ k) = P(Beta(k, n − k + 1) ≤ p0)
    p[pos] = stats.beta.cdf(p0, k[pos], n[pos] - k[pos] + 1)
    return p


def bh_q(p: np.ndarray, tested: np.ndarray | None = None) -> np.ndarray:
    """Benjamini–Hochberg q-values of the tested cells' p-values (NaN for the others)."""
    p = np.asarray(p, dtype="float64")
    mask = np.isfinite(p) if tested is None else np.asarray(tested, dtype=bool) & np.isfinite(p)
    q = np.full(p.shape, np.nan)
    if mask.any():
        q[mask] = multipletests(p[mask], method="fdr_bh")[1]
    return q


def funnel_limits(n: np.ndarray, p0: float) -> dict[str, np.ndarray]:
    """The exact binomial funnel limits per cell as rates: lower_95, upper_95, lower_998, upper_998 (at the
    nearest whole n; NaN where that is 0)."""
    whole = np.rint(np.asarray(n, dtype="float64"))
    size = np.where(whole > 0, whole, np.nan)
    out: dict[str, np.ndarray] = {}
    for label, level in FUNNEL_LEVELS.items():
        tail = (1 - level) / 2
        suffix = label.replace(".", "")
        out[f"lower_{suffix}"] = stats.binom.ppf(tail, size, p0) / size
        out[f"upper_{suffix}"] = stats.binom.ppf(1 - tail, size, p0) / size
    return out


def z_scores(k: np.ndarray, n: np.ndarray, p0: float) -> np.ndarray:
    """(r − p0)/√(p0(1 − p0)/n) per cell (NaN where n = 0)."""
    k, n = np.asarray(k, dtype="float64"), np.asarray(n, dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(n > 0, (k / n - p0) / np.sqrt(p0 * (1 - p0) / n), np.nan)


def overdispersion(
    k: np.ndarray, n: np.ndarray, p0: float, *, winsor: float, level: float, min_cells: int, inflate: str
) -> Overdispersion:
    """φ of the cells given (the tested ones): their z-scores winsorised by `winsor` at each end (scipy mstats), φ
    the mean square. `inflate` chi_square: the limits are inflated when φ > 1 and Σz² of the z-scores as they are
    exceeds the χ²(m − 1) quantile at `level`; never: they are not."""
    z = z_scores(k, n, p0)
    z = z[np.isfinite(z)]
    m = len(z)
    if m < min_cells:
        return Overdispersion(math.nan, math.nan, max(m - 1, 0), math.nan, inflated=False, cells=m)
    zw = np.asarray(mstats.winsorize(z, limits=(winsor, winsor)), dtype="float64")
    phi = float(np.mean(zw**2))
    statistic = float(np.sum(z**2))
    p_value = float(stats.chi2.sf(statistic, m - 1))
    inflated = inflate == "chi_square" and phi > 1 and p_value < level
    return Overdispersion(phi, statistic, m - 1, p_value, inflated=inflated, cells=m)


def inflate_limits(limits: dict[str, np.ndarray], p0: float, phi: float) -> dict[str, np.ndarray]:
    """The limits' distance from p0 multiplied by √φ (for large n the normal limits p0 ± z√(φ p0(1 − p0)/n))."""
    root = math.sqrt(phi)
    return {name: np.clip(p0 + root * (value - p0), 0.0, 1.0) for name, value in limits.items()}


def beta_binomial_prior(k: np.ndarray, n: np.ndarray, p0: float, *, estimated: bool, max_strength: float) -> BetaPrior:
    """The beta prior of the cells' rates with mean p0, its variance by the method of moments (module docstring);
    `estimated`: p0 is Σk/Σn of these cells (one degree of freedom spent on it)."""
    k, n = np.asarray(k, dtype="float64"), np.asarray(n, dtype="float64")
    has = n > 0
    k, n = k[has], n[has]
    m, total = len(n), float(n.sum())
    v = p0 * (1 - p0)
    spread = float(np.sum(n * (k / n - p0) ** 2)) if m else 0.0
    if m == 0:
        noise, scale = 0.0, 0.0
    elif estimated:
        noise, scale = (m - 1) * v, total - float(np.sum(n**2)) / total - (m - 1)
    else:
        noise, scale = m * v, total - m
    tau2 = (spread - noise) / scale if scale > 0 else math.nan
    if tau2 > 0:
        strength = v / tau2 - 1
        capped = strength >= max_strength
        strength = min(max(strength, _MIN_STRENGTH), max_strength)
    else:  # not above binomial noise (or too few firms to tell): the strongest prior
        strength, capped = max_strength, True
    return BetaPrior(a=p0 * strength, b=(1 - p0) * strength, tau2=tau2, capped=capped)


def shrink(k: np.ndarray, n: np.ndarray, prior: BetaPrior, p0: float, factor: float) -> tuple[np.ndarray, np.ndarray]:
    """The posterior mean rate per cell and P(rate > factor × p0) under Beta(k + a, n − k + b)."""
    k, n = np.asarray(k, dtype="float64"), np.asarray(n, dtype="float64")
    post_a, post_b = k + prior.a, n - k + prior.b
    return post_a / (post_a + post_b), stats.beta.sf(factor * p0, post_a, post_b)


def _month_index(values: pd.Series) -> np.ndarray:
    """Months as year × 12 + month − 1, from 'YYYY-MM' or 'YYYY-MM-01' labels, dates or timestamps."""
    if pd.api.types.is_datetime64_any_dtype(values):
        when = values
    else:
        when = pd.to_datetime(values.astype(str).str[:7], format="%Y-%m")
    return (when.dt.year * 12 + when.dt.month - 1).to_numpy(dtype="int64")


def _ordinal(month: str | dt.date | Month) -> int:
    m = Month.of(month)
    return m.year * 12 + m.number - 1


def _unique_keys(frame: pd.DataFrame, columns: list[str], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{what} lacks the column(s) {missing}")
    repeated = frame.duplicated(columns)
    if repeated.any():
        first = frame.loc[repeated, columns].iloc[0].tolist()
        raise ValueError(f"{what} lists a cell twice: {dict(zip(columns, first, strict=True))}")


def logistic_trend(
    k: np.ndarray, n: np.ndarray, t: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per row of (cells × months) counts, the binomial GLM logit(rate) = β0 + β1 t by Newton-Raphson (the maximum
    likelihood statsmodels' GLM Binomial finds): β0, β1, the standard error of β1 and whether it converged to a
    finite fit. Months with n = 0 count for nothing."""
    k, n = np.asarray(k, dtype="float64"), np.asarray(n, dtype="float64")
    t = np.asarray(t, dtype="float64")
    rows = k.shape[0]
    pooled = (k.sum(axis=1) + 0.5) / (n.sum(axis=1) + 1.0)
    b0, b1 = special.logit(pooled), np.zeros(rows)
    active = np.ones(rows, dtype=bool)
    converged = np.zeros(rows, dtype=bool)
    for _ in range(_MAX_ITER):
        idx = np.flatnonzero(active)
        if not len(idx):
            break
        kk, nn = k[idx], n[idx]
        mu = special.expit(b0[idx, None] + b1[idx, None] * t)
        w = nn * mu * (1 - mu)
        r = kk - nn * mu
        u0, u1 = r.sum(axis=1), (r * t).sum(axis=1)
        i00, i01, i11 = w.sum(axis=1), (w * t).sum(axis=1), (w * t * t).sum(axis=1)
        det = i00 * i11 - i01**2
        with np.errstate(divide="ignore", invalid="ignore"):
            d0 = (i11 * u0 - i01 * u1) / det
            d1 = (i00 * u1 - i01 * u0) / det
        b0[idx] += d0
        b1[idx] += d1
        bad = ~np.isfinite(b0[idx]) | ~np.isfinite(b1[idx]) | (np.abs(b1[idx]) > _MAX_SLOPE)
        done = ~bad & (np.abs(d0) < 1e-9 * (1 + np.abs(b0[idx]))) & (np.abs(d1) < 1e-9 * (1 + np.abs(b1[idx])))
        converged[idx[done]] = True
        active[idx[done | bad]] = False
    mu = special.expit(b0[:, None] + b1[:, None] * t)
    w = n * mu * (1 - mu)
    i00, i01, i11 = w.sum(axis=1), (w * t).sum(axis=1), (w * t * t).sum(axis=1)
    det = i00 * i11 - i01**2
    with np.errstate(divide="ignore", invalid="ignore"):
        se1 = np.sqrt(i00 / det)
    ok = converged & np.isfinite(se1) & (det > 0)
    return b0, b1, np.where(ok, se1, np.nan), ok


def trend(
    history: pd.DataFrame, keys: Sequence[str], month: str | dt.date | Month, *, window_months: int, min_months: int
) -> pd.DataFrame:
    """Per cell of `history` (its keys, `month`, `n`, `k`; the months up to `month` included), the GLM slope over
    the last window_months months: trend_months (months with n > 0), slope (logit a month), slope_se, slope_p
    (one-sided, slope > 0), increase (fitted rate of `month` over that of the window's first month, − 1) and
    trend_estimable (enough months, some but not all counts C+D, a finite fit)."""
    keys = list(keys)
    _unique_keys(history, [*keys, "month"], "the history")
    offset = _ordinal(month) - _month_index(history["month"])  # 0 = the layer's month
    recent = history.loc[(offset >= 0) & (offset < window_months), [*keys, "n", "k"]]
    position = window_months - 1 - offset[(offset >= 0) & (offset < window_months)]  # 0 = the window's first
    grouped = recent.groupby(keys, sort=True, dropna=False)
    cell = grouped.ngroup().to_numpy()
    cells = grouped.size().reset_index()[keys]
    rows = len(cells)
    n = np.zeros((rows, window_months))
    k = np.zeros((rows, window_months))
    n[cell, position] = recent["n"].to_numpy(dtype="float64")
    k[cell, position] = recent["k"].to_numpy(dtype="float64")
    months = (n > 0).sum(axis=1)
    total_k, total_n = k.sum(axis=1), n.sum(axis=1)
    fit = (months >= min_months) & (total_k > 0) & (total_k < total_n)
    # Centred months: the same slope and standard error, a better-conditioned Newton step.
    t = np.arange(window_months, dtype="float64") - (window_months - 1) / 2
    b0, b1, se = np.full(rows, np.nan), np.full(rows, np.nan), np.full(rows, np.nan)
    ok = np.zeros(rows, dtype=bool)
    if fit.any():
        f0, f1, fse, fok = logistic_trend(k[fit], n[fit], t)
        b0[fit], b1[fit], se[fit], ok[fit] = f0, f1, fse, fok
    b0, b1, se = np.where(ok, b0, np.nan), np.where(ok, b1, np.nan), np.where(ok, se, np.nan)
    with np.errstate(invalid="ignore"):
        p = stats.norm.sf(b1 / se)
    increase = special.expit(b0 + b1 * t[-1]) / special.expit(b0 + b1 * t[0]) - 1
    cells["trend_months"] = months
    cells["slope"], cells["slope_se"], cells["slope_p"] = b1, se, p
    cells["increase"] = increase
    cells["trend_estimable"] = ok
    return cells


def flag_status(now: np.ndarray, before: np.ndarray) -> np.ndarray:
    """new (flagged now, not the month before) / persisting (both) / resolved (before, not now) / ''."""
    now, before = np.asarray(now, dtype=bool), np.asarray(before, dtype=bool)
    return np.select([now & ~before, now & before, ~now & before], ["new", "persisting", "resolved"], "")


# --- one layer ---------------------------------------------------------------------------------------------


def _check_cells(cells: pd.DataFrame, keys: list[str]) -> tuple[np.ndarray, np.ndarray]:
    _unique_keys(cells, [*keys, "n", "k"], "the layer")
    n = cells["n"].to_numpy(dtype="float64")
    k = cells["k"].to_numpy(dtype="float64")
    if not (np.isfinite(n).all() and np.isfinite(k).all()):
        raise ValueError("n and k must be finite numbers in every cell")
    if (n < 0).any() or (k < 0).any() or (k > n + 1e-9 * np.maximum(n, 1)).any():
        raise ValueError("every cell needs 0 ≤ k ≤ n")
    return n, np.minimum(k, n)


def _previous_flags(
    flag_history: pd.DataFrame | None, cells: pd.DataFrame, keys: list[str], month: Month, months: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per cell of the layer: how many of the `months` − 1 months before `month` it was high-risk, and whether it
    was high-risk and rising the month before."""
    size = len(cells)
    if flag_history is None or flag_history.empty:
        return np.zeros(size, dtype="int64"), np.zeros(size, dtype=bool), np.zeros(size, dtype=bool)
    _unique_keys(flag_history, [*keys, "month", "high_risk"], "the flag history")
    back = _ordinal(month) - _month_index(flag_history["month"])
    frame = flag_history[keys].copy()
    frame["_window"] = ((back >= 1) & (back < months)) & flag_history["high_risk"].to_numpy(dtype=bool)
    frame["_high"] = (back == 1) & flag_history["high_risk"].to_numpy(dtype=bool)
    rising = flag_history["rising"].to_numpy(dtype=bool) if "rising" in flag_history else np.zeros(len(frame), bool)
    frame["_rising"] = (back == 1) & rising
    per_cell = frame.groupby(keys, dropna=False, sort=False).agg(
        _window=("_window", "sum"), _high=("_high", "any"), _rising=("_rising", "any")
    )
    joined = cells[keys].merge(per_cell, left_on=keys, right_index=True, how="left")
    return (
        joined["_window"].fillna(0).to_numpy(dtype="int64"),
        joined["_high"].eq(True).to_numpy(),
        joined["_rising"].eq(True).to_numpy(),
    )


def assess_layer(
    cells: pd.DataFrame,
    keys: Sequence[str],
    policy: HotspotPolicy,
    *,
    measure: str,
    month: str | dt.date | Month,
    p0: float | None = None,
    history: pd.DataFrame | None = None,
    flag_history: pd.DataFrame | None = None,
) -> LayerAssessment:
    """Every cell of one layer and month with its evidence and flags (module docstring).

    `cells`: one row per cell, its `keys` columns, `n` and `k`. `measure`: cd_share or problem_rate (the
    eligibility of config/hotspots.yaml and the reasons' wording). `p0`: the city rate of the month, Σk/Σn of the
    layer when None. `history`: keys, month, n, k of the months up to `month` (this one included) for the trend
    test; without it no cell is rising. `flag_history`: keys, month, high_risk (and rising) of the layer's
    earlier months, as this function returned them, for persistence and status."""
    if measure not in MEASURES:
        raise ValueError(f"unknown measure {measure!r}; known: {', '.join(MEASURES)}")
    keys = list(keys)
    the_month = Month.of(month)
    n, k = _check_cells(cells, keys)
    estimated = p0 is None
    p0 = city_rate(k, n) if p0 is None else float(p0)
    if not 0 < p0 < 1:
        raise ValueError(f"the city rate must lie strictly between 0 and 1, got {p0}")
    eligibility = policy.eligibility[measure]
    has = n > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(has, k / n, np.nan)
    expected = n * p0
    tested = (n >= eligibility.min_n) & (expected >= eligibility.min_expected)

    p = binomial_p(k, n, p0)
    q = bh_q(p, tested)

    limits = funnel_limits(n, p0)
    od_policy = policy.overdispersion
    od = overdispersion(
        k[tested],
        n[tested],
        p0,
        winsor=od_policy.winsor,
        level=od_policy.level,
        min_cells=od_policy.min_cells,
        inflate=od_policy.inflate,
    )
    if od.inflated:
        limits = inflate_limits(limits, p0, od.phi)
    funnel = np.select([has & (rate > limits["upper_998"]), has & (rate > limits["upper_95"])], ["99.8", "95"], "none")

    prior = beta_binomial_prior(k, n, p0, estimated=estimated, max_strength=policy.max_prior_strength)
    shrunk, exceedance = shrink(k, n, prior, p0, policy.factor)

    significant = tested & (q < policy.alpha)
    high = significant & (exceedance > policy.min_exceedance)

    out = cells[keys].copy()
    out["measure"] = measure
    out["n"], out["k"], out["rate"], out["p0"], out["expected"] = n, k, rate, p0, expected
    out["tested"], out["p"], out["q"] = tested, p, q
    out["z"] = z_scores(k, n, p0)
    for name, value in limits.items():
        out[name] = value
    out["limits"] = "inflated" if od.inflated else "exact"
    out["funnel_flag"] = funnel
    out["phi"] = od.phi
    out["prior_a"], out["prior_b"] = prior.a, prior.b
    out["shrunk"], out["exceedance"] = shrunk, exceedance

    trend_policy = policy.trend
    if history is not None:
        tr = trend(
            history, keys, the_month, window_months=trend_policy.window_months, min_months=trend_policy.min_months
        )
        joined = out[keys].merge(tr, on=keys, how="left")
        for name in ("trend_months", "slope", "slope_se", "slope_p", "increase"):
            out[name] = joined[name].to_numpy(dtype="float64")
        out["trend_months"] = out["trend_months"].fillna(0).astype("int64")
        estimable = joined["trend_estimable"].eq(True).to_numpy()
    else:
        out["trend_months"] = 0
        for name in ("slope", "slope_se", "slope_p", "increase"):
            out[name] = np.nan
        estimable = np.zeros(len(out), dtype=bool)
    trend_tested = tested & estimable
    slope_q = bh_q(out["slope_p"].to_numpy(), trend_tested)
    out["slope_q"] = slope_q
    rising = (
        trend_tested
        & (out["slope"].to_numpy() > 0)
        & (slope_q < trend_policy.alpha)
        & (out["increase"].to_numpy() >= trend_policy.min_increase)
    )

    window_flags, high_before, rising_before = _previous_flags(
        flag_history, out, keys, the_month, policy.persistence_months
    )
    months_flagged = window_flags + high
    out["high_risk"], out["rising"] = high, rising
    out["months_flagged"] = months_flagged
    out["persistent"] = high & (months_flagged >= policy.persistence_min_flagged)
    out["status"] = flag_status(high, high_before)
    out["rising_status"] = flag_status(rising, rising_before)
    out["reason_en"], out["reason_zh"] = _reasons(out, policy, measure, eligibility.min_n, eligibility.min_expected)

    summary = LayerSummary(
        measure=measure,
        month=the_month.label,
        p0=p0,
        p0_estimated=estimated,
        cells=len(out),
        tested=int(tested.sum()),
        alpha=policy.alpha,
        significant=int(significant.sum()),
        high_risk=int(high.sum()),
        trend_tested=int(trend_tested.sum()),
        rising=int(rising.sum()),
        overdispersion=od,
        prior=prior,
    )
    return LayerAssessment(cells=out, summary=summary)


# --- the reasons -------------------------------------------------------------------------------------------


def _fmt(values: pd.Series, spec: str) -> pd.Series:
    return values.map(lambda v: format(v, spec) if pd.notna(v) else "–")


def _reasons(
    out: pd.DataFrame, policy: HotspotPolicy, measure: str, min_n: int, min_expected: int
) -> tuple[pd.Series, pd.Series]:
    """Why each cell is flagged or not, in English and Chinese, with its numbers (over cells, not enterprises)."""
    en_name, zh_name = MEASURE_LABELS[measure]
    factor, alpha, floor = f"{policy.factor:g}", f"{policy.alpha:g}", f"{policy.min_exceedance:g}"
    rate, city = _fmt(out["rate"] * 100, ".1f"), _fmt(out["p0"] * 100, ".1f")
    shrunk, exceed = _fmt(out["shrunk"] * 100, ".1f"), _fmt(out["exceedance"], ".2f")
    n, k, q, expected = (
        _fmt(out["n"], ".0f"),
        _fmt(out["k"], ".0f"),
        _fmt(out["q"], ".2g"),
        _fmt(out["expected"], ".1f"),
    )
    months, window = out["months_flagged"].astype(str), str(policy.persistence_months)
    funnel = out["funnel_flag"]

    en_rate = en_name + " " + rate + " % vs city " + city + " %"
    zh_rate = zh_name + " " + rate + "%，全市 " + city + "%"
    en_exceed = "P(rate > " + factor + " × city) " + exceed
    zh_exceed = "高于全市" + factor + "倍的概率 " + exceed
    en_funnel = pd.Series(np.where(funnel == "none", "within the funnel", "above the " + funnel + " % funnel limit"))
    zh_funnel = pd.Series(np.where(funnel == "none", "在漏斗图控制限内", "超出漏斗图" + funnel + "%控制限"))
    en_funnel.index = zh_funnel.index = out.index
    en_high = (
        "high risk: " + en_rate + " (n " + n + ", k " + k + "), q " + q + " < " + alpha + ", " + en_exceed
        + " > " + floor + " (shrunk " + shrunk + " %), " + en_funnel
        + "; flagged " + months + " of the last " + window + " months"
    )  # fmt: skip
    zh_high = (
        "高风险：" + zh_rate + "（n=" + n + "，k=" + k + "），q=" + q + "<" + alpha + "，" + zh_exceed
        + ">" + floor + "（收缩估计 " + shrunk + "%），" + zh_funnel
        + "；近" + window + "个月中" + months + "个月被标记"
    )  # fmt: skip
    conditions = [
        ~(out["n"] > 0),
        out["n"] < min_n,
        out["expected"] < min_expected,
        ~(out["q"] < policy.alpha),
        out["high_risk"].astype(bool),
    ]
    en = np.select(
        conditions,
        [
            "no data",
            "not tested: n " + n + f" < {min_n}",
            "not tested: expected " + expected + f" < {min_expected} at the city rate",
            "not significant: " + en_rate + ", q " + q + " ≥ " + alpha,
            en_high,
        ],
        "not material: " + en_rate + ", q " + q + ", " + en_exceed + " ≤ " + floor,
    )
    zh = np.select(
        conditions,
        [
            "无数据",
            "未检验：样本不足（n=" + n + f"<{min_n}）",
            "未检验：按全市比率的期望数不足（" + expected + f"<{min_expected}）",
            "不显著：" + zh_rate + "，q=" + q + "≥" + alpha,
            zh_high,
        ],
        "超出不实质：" + zh_rate + "，q=" + q + "，" + zh_exceed + "≤" + floor,
    )
    trend = policy.trend
    slope, slope_q = _fmt(out["slope"], "+.3f"), _fmt(out["slope_q"], ".2g")
    increase, win, level = _fmt(out["increase"] * 100, "+.0f"), str(trend.window_months), f"{trend.alpha:g}"
    en_rising = "; rising: " + slope + " logit a month, q " + slope_q + " < " + level + ", " + increase
    en_rising = en_rising + " % over " + win + " months"
    zh_rising = (
        "；上升：每月 " + slope + "（logit），q=" + slope_q + "<" + level + "，" + win + "个月变化 " + increase + "%"
    )
    rising = out["rising"].to_numpy(dtype=bool)
    en_out = pd.Series(np.where(rising, en + en_rising, en), index=out.index)
    zh_out = pd.Series(np.where(rising, zh + zh_rising, zh), index=out.index)
    return en_out, zh_out
