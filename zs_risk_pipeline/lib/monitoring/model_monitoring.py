"""Model monitoring (模型监测): is the model serving month M still looking at the city it was promoted on, and do
the latest inspection results keep its tiers in order?

For tier month M, against a reference month (see `reference_month`):

- score PSI: the score column of tiers.enterprise_monthly in M on the reference month's deciles, with the
  binning and formula of drift.psi (`drift.bin_counts`, `drift.psi_from_counts`: a value the deciles repeat,
  one holding a tenth of the population or more, is a bin of its own), for the whole population and per
  stratum (town; tier held in the reference month);
- PSI of the configured key indicators of features.enterprise_monthly;
- tier mix: categorical PSI of the tier shares against the reference month and against M-1, and the share
  changes in percentage points;
- problem-found rate by tier of the latest random (双随机) inspections, those delivered in the window ending at
  M, each weighted 1/π of its plan (Hájek: Σw·y / Σw, linearised standard error), with the tier the enterprise
  held in the month before the inspection;
- ordering verdict: the rates must rise A < B < C < D. A pair counts as inverted only when the lower-risk tier's
  rate exceeds the higher-risk tier's by more than z standard errors of the difference; tiers with fewer than
  the configured inspections are reported and skipped, never failed.

Thresholds (methods.md §2.2): under H0, PSI ≈ (1/n + 1/m)·χ²(B−1). A comparison turns moderate / significant at
max(rule of thumb, the χ² critical value at the configured level): at city sizes that is the 0.10 / 0.25 rule,
for a stratum of a few hundred firms the critical value, so sampling noise alone does not alarm.

Results go to monitoring.model_monitoring (one month replaced in one transaction, rows in a fixed order). Tiers
and scores are internal: nothing here is for the public. Plain Python, no Dagster.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import yaml
from scipy.stats import chi2

from zs_risk_pipeline.lib.core import resources
from zs_risk_pipeline.lib.core.sql import render, run_sql
from zs_risk_pipeline.lib.features import enterprise_monthly
from zs_risk_pipeline.lib.ingest.staging import month_end, month_start
from zs_risk_pipeline.lib.model.registry import Registry, clean_json
from zs_risk_pipeline.lib.monitoring import drift

CONFIG_PATH = resources.config_file("monitoring.yaml")
SECTION = "model_monitoring"
TIERS = ("A", "B", "C", "D")
REFERENCE_POLICIES = ("serving_model", "pinned")
SCORE_COLUMNS = ("points", "score", "probability")
STRATA = ("town_no", "reference_tier")
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


# --- policy -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MonitoringPolicy:
    reference: str  # serving_model | pinned
    pinned_month: dt.date | None
    score_column: str
    key_indicators: tuple[str, ...]
    bins: int
    moderate: float
    significant: float
    level: float  # of the χ² critical value for small strata
    strata: tuple[str, ...]
    window_months: int
    min_inspections: int
    z: float


def _number(
    doc: dict[str, Any], key: str, where: str, lo: float, hi: float, *, integer: bool = False, open_lo: bool = False
) -> Any:
    value = doc.get(key)
    kind = int if integer else (int, float)
    ok = not isinstance(value, bool) and isinstance(value, kind) and (value > lo if open_lo else value >= lo)
    if not ok or value > hi:
        what = "an integer" if integer else "a number"
        span = f"{'(' if open_lo else '['}{lo:g}, {hi:g}]"
        raise ValueError(f"{where}.{key} must be {what} in {span}, got {value!r}")
    return value


def _mapping(doc: Any, where: str) -> dict[str, Any]:
    if not isinstance(doc, dict):
        raise ValueError(f"{where} must be a mapping, got {doc!r}")
    return doc


def load_policy(path: Path | None = None) -> MonitoringPolicy:
    """Read and validate the model_monitoring section of config/monitoring.yaml (or `path`); an error names the
    file and the field."""
    path = path or CONFIG_PATH
    name = path.name
    try:
        return _parse(yaml.safe_load(path.read_text(encoding="utf-8")) or {}, f"{name}: {SECTION}")
    except ValueError as e:
        raise ValueError(str(e) if str(e).startswith(name) else f"{name}: {e}") from None


def _parse(doc: Any, where: str) -> MonitoringPolicy:
    section = _mapping(_mapping(doc, "the top level").get(SECTION), where)
    ref = _mapping(section.get("reference"), f"{where}.reference")
    policy_name = ref.get("policy")
    if policy_name not in REFERENCE_POLICIES:
        raise ValueError(f"{where}.reference.policy {policy_name!r} not in {list(REFERENCE_POLICIES)}")
    pinned = ref.get("month")
    if pinned is not None and (not isinstance(pinned, str) or not _MONTH.match(pinned)):
        raise ValueError(f"{where}.reference.month must be 'YYYY-MM' or null, got {pinned!r}")
    if policy_name == "pinned" and pinned is None:
        raise ValueError(f"{where}.reference.month is required when reference.policy is 'pinned'")
    score_column = section.get("score_column")
    if score_column not in SCORE_COLUMNS:
        raise ValueError(f"{where}.score_column {score_column!r} not in {list(SCORE_COLUMNS)}")
    catalogue = {i.name for i in enterprise_monthly.indicators()}
    indicators = section.get("key_indicators")
    if not isinstance(indicators, list) or not indicators:
        raise ValueError(f"{where}.key_indicators must be a non-empty list of indicator names, got {indicators!r}")
    unknown = [i for i in indicators if i not in catalogue]
    if unknown:
        raise ValueError(f"{where}.key_indicators: {unknown} not in reference/indicators.csv")
    if len(set(indicators)) != len(indicators):
        raise ValueError(f"{where}.key_indicators must not repeat a name, got {indicators}")
    bins = _number(section, "bins", where, 2, 100, integer=True)
    moderate = _number(section, "moderate", where, 0, 10, open_lo=True)
    significant = _number(section, "significant", where, 0, 10, open_lo=True)
    if significant < moderate:
        raise ValueError(f"{where}.significant ({significant}) must not be below moderate ({moderate})")
    small = _mapping(section.get("small_strata"), f"{where}.small_strata")
    level = _number(small, "level", f"{where}.small_strata", 0, 0.999999, open_lo=True)
    strata = small.get("strata")
    if not isinstance(strata, list) or any(s not in STRATA for s in strata):
        raise ValueError(f"{where}.small_strata.strata must be a list drawn from {list(STRATA)}, got {strata!r}")
    results = _mapping(section.get("results"), f"{where}.results")
    return MonitoringPolicy(
        reference=policy_name,
        pinned_month=month_start(pinned) if pinned else None,
        score_column=score_column,
        key_indicators=tuple(indicators),
        bins=bins,
        moderate=float(moderate),
        significant=float(significant),
        level=float(level),
        strata=tuple(dict.fromkeys(strata)),
        window_months=_number(results, "window_months", f"{where}.results", 1, 36, integer=True),
        min_inspections=_number(results, "min_inspections", f"{where}.results", 2, 1_000_000, integer=True),
        z=float(_number(results, "z", f"{where}.results", 0, 10, open_lo=True)),
    )


# --- reference month --------------------------------------------------------------------------------------


def promotion_month(decisions: Sequence[dict[str, Any]], month: str) -> tuple[str | None, str | None]:
    """(model serving `month` 'YYYY-MM', the month of the decision that made it champion); (None, None) in the
    cold start. The champion serving M is the champion_after of the latest decision dated M or earlier."""
    champion: str | None = None
    since: str | None = None
    for d in sorted(decisions, key=lambda d: d["month"]):
        if d["month"] > month:
            break
        after = d.get("champion_after")
        if after != champion:
            champion, since = after, d["month"]
    return (champion, since) if champion else (None, None)


def reference_month(
    conn: duckdb.DuckDBPyConnection, month: str, policy: MonitoringPolicy, registry: Registry | None = None
) -> tuple[dt.date | None, str]:
    """The month M is compared with, and why.

    - pinned: the configured month, for months from it on (an earlier month cannot look ahead to it);
    - serving_model: the month in which the model serving M was promoted (registry decisions); in the scorecard
      cold start, or without a registry, the first month tiered by the model version that tiered M - for a
      registered model that is its promotion month, for the scorecard the first tiered month.
    None when M has no tiers.
    """
    m = month_start(month)
    versions = {row[0]: row[1] for row in run_sql(conn, "monitoring/model_tiered_months.sql", {"month": m})}
    if m not in versions:
        return None, f"{m:%Y-%m} has no tiers"
    note = ""
    if policy.reference == "pinned" and policy.pinned_month is not None and policy.pinned_month <= m:
        if policy.pinned_month in versions:
            return policy.pinned_month, f"pinned in config ({policy.pinned_month:%Y-%m})"
        note = f"; pinned {policy.pinned_month:%Y-%m} has no tiers"
    if registry is not None:
        champion, since = promotion_month(registry.decisions(), f"{m:%Y-%m}")
        if champion is not None and since is not None and month_start(since) in versions:
            return month_start(since), f"{champion} promoted in {since}{note}"
    first = min(k for k, v in versions.items() if v == versions[m])
    return first, f"first month tiered by {versions[m]}{note}"


# --- PSI with sample-size-aware thresholds ----------------------------------------------------------------


def critical_psi(n: int, m: int, df: int, level: float) -> float:
    """The PSI that sampling noise alone exceeds with probability 1 − level: (1/n + 1/m)·χ²_level(df)."""
    if n <= 0 or m <= 0 or df < 1:
        return 0.0
    return (1.0 / n + 1.0 / m) * float(chi2.ppf(level, df))


def judge_psi(value: float, n: int, n_reference: int, df: int, policy: MonitoringPolicy) -> dict[str, Any]:
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
    metric: str, subject: str, reference: pd.Series, current: pd.Series, kind: str, policy: MonitoringPolicy
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


def score_drift(scores: pd.DataFrame, policy: MonitoringPolicy) -> list[dict[str, Any]]:
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


def indicator_drift(frame: pd.DataFrame, policy: MonitoringPolicy) -> list[dict[str, Any]]:
    """PSI of every key indicator against the reference month, in the configured order."""
    kinds = {i.name: i.kind for i in enterprise_monthly.indicators()}
    current = frame[frame["is_current"]]
    reference = frame[~frame["is_current"]]
    return [
        _psi_row("indicator_psi", name, reference[name], current[name], kinds[name], policy)
        for name in policy.key_indicators
    ]


def tier_mix(
    counts: dict[dt.date, dict[str, int]], m: dt.date, ref: dt.date, previous: dt.date, policy: MonitoringPolicy
) -> list[dict[str, Any]]:
    """Categorical PSI of the tier shares against the reference month and against M-1, and share changes."""
    cur = np.array([counts.get(m, {}).get(t, 0) for t in TIERS], dtype=float)
    shares = {when: np.array([counts.get(when, {}).get(t, 0) for t in TIERS], dtype=float) for when in (ref, previous)}
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
    for i, t in enumerate(TIERS):
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


# --- problem-found rate by tier and the ordering verdict --------------------------------------------------


@dataclass(frozen=True)
class TierRate:
    tier: str
    inspections: int  # random inspections of the window matched to the tier, with π known
    problems: int
    rate: float | None  # Hájek: Σ y/π / Σ 1/π
    se: float | None  # linearised: sqrt(n/(n−1)·Σ w²(y − rate)²) / Σ w
    weight_sum: float
    effective_n: float  # Kish: (Σw)² / Σw²
    enough: bool  # at least min_inspections: compared in the ordering verdict


def problem_rates(results: pd.DataFrame, min_inspections: int) -> list[TierRate]:
    """Weighted problem-found rate per tier from rows (tier, pi, problem_found); rows without π or tier are not
    weighted. Vectorised sums in row order (the SQL orders them), so every run gives the same floats."""
    usable = results[results["tier"].isin(TIERS) & results["pi"].notna()]
    codes = usable["tier"].map({t: i for i, t in enumerate(TIERS)}).to_numpy(dtype=np.int64)
    w = 1.0 / usable["pi"].to_numpy(dtype=float)
    y = usable["problem_found"].to_numpy(dtype=float)
    k = len(TIERS)
    n = np.bincount(codes, minlength=k)
    sw = np.bincount(codes, weights=w, minlength=k)
    swy = np.bincount(codes, weights=w * y, minlength=k)
    sw2 = np.bincount(codes, weights=w * w, minlength=k)
    found = np.bincount(codes, weights=y, minlength=k)
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(sw > 0, swy / sw, np.nan)
        resid = np.bincount(codes, weights=(w * (y - rate[codes])) ** 2, minlength=k)
        se = np.where(n > 1, np.sqrt(n / np.maximum(n - 1, 1) * resid) / sw, np.nan)
        n_eff = np.where(sw2 > 0, sw**2 / sw2, 0.0)
    return [
        TierRate(
            tier=t,
            inspections=int(n[i]),
            problems=int(found[i]),
            rate=_num(rate[i]),
            se=_num(se[i]),
            weight_sum=float(sw[i]),
            effective_n=float(n_eff[i]),
            enough=bool(n[i] >= min_inspections),
        )
        for i, t in enumerate(TIERS)
    ]


@dataclass(frozen=True)
class PairTest:
    lower: str  # the lower-risk tier
    higher: str
    difference: float  # lower's rate − higher's rate: > 0 is an inversion
    se: float
    z: float | None  # difference / se (None when se is 0)
    status: str  # rises | not_significant | inversion


@dataclass(frozen=True)
class OrderVerdict:
    passed: bool
    status: str  # pass | fail | insufficient_results (passes)
    pairs: tuple[PairTest, ...]
    skipped: tuple[str, ...]  # tiers with too few inspections
    note: str

    @property
    def inversions(self) -> list[PairTest]:
        return [p for p in self.pairs if p.status == "inversion"]


def tier_order(rates: Sequence[TierRate], z: float) -> OrderVerdict:
    """Every pair of compared tiers (lower-risk first) must not show a significant inversion."""
    compared = [r for r in rates if r.enough and r.rate is not None]
    skipped = tuple(r.tier for r in rates if r not in compared)
    pairs = []
    for i, lo in enumerate(compared):
        for hi in compared[i + 1 :]:
            diff = lo.rate - hi.rate
            se = math.sqrt((lo.se or 0.0) ** 2 + (hi.se or 0.0) ** 2)
            ratio = diff / se if se > 0 else None
            if diff < 0:
                status = "rises"
            elif diff > 0 and (ratio is None or ratio > z):
                status = "inversion"
            else:
                status = "not_significant"
            pairs.append(PairTest(lo.tier, hi.tier, diff, se, ratio, status))
    if len(compared) < 2:
        names = "".join(r.tier for r in compared) or "none"
        note = f"not enough results: tiers with enough inspections: {names}; the ordering is not judged"
        return OrderVerdict(True, "insufficient_results", tuple(pairs), skipped, note)
    bad = [p for p in pairs if p.status == "inversion"]
    order = " < ".join(r.tier for r in compared)
    if bad:
        note = "significant inversion: " + ", ".join(
            f"{p.lower} {_pct(p.difference)} above {p.higher}" + (f" (z {p.z:.2f})" if p.z is not None else "")
            for p in bad
        )
    else:
        note = f"no significant inversion among {order} at z {z:g}"
    if skipped:
        note += f"; skipped (too few inspections): {', '.join(skipped)}"
    return OrderVerdict(not bad, "fail" if bad else "pass", tuple(pairs), skipped, note)


def _pct(v: float | None) -> str:
    return "n/a" if v is None else f"{v * 100:.1f} pp"


def results_window(month: str, window_months: int) -> tuple[dt.date, dt.date, dt.date]:
    """(first delivery month, M, last day of M) of the latest results for tier month M."""
    m = month_start(month)
    start = (pd.Timestamp(m) - pd.DateOffset(months=window_months - 1)).date()
    return start, m, month_end(month)


def latest_results(conn: duckdb.DuckDBPyConnection, month: str, policy: MonitoringPolicy) -> pd.DataFrame:
    start, m, end = results_window(month, policy.window_months)
    sql = render("monitoring/model_results.sql")
    return conn.execute(sql, {"window_start": start, "month": m, "month_end": end}).df()


def ordering(
    conn: duckdb.DuckDBPyConnection, month: str, policy: MonitoringPolicy
) -> tuple[list[TierRate], OrderVerdict, dict[str, Any]]:
    """Rates by tier of the latest results, the ordering verdict, and the funnel of the window's inspections."""
    results = latest_results(conn, month, policy)
    rates = problem_rates(results, policy.min_inspections)
    verdict = tier_order(rates, policy.z)
    start, m, _ = results_window(month, policy.window_months)
    funnel = {
        "window": f"delivered {start:%Y-%m}..{m:%Y-%m}",
        "random_inspections": len(results),
        "without_plan_pi": int(results["pi"].isna().sum()),
        "without_tier_month_before": int(results["tier"].isna().sum()),
        "min_inspections": policy.min_inspections,
        "z": policy.z,
    }
    return rates, verdict, funnel


def ordering_detail(rates: Sequence[TierRate], verdict: OrderVerdict, funnel: dict[str, Any]) -> dict[str, Any]:
    """Plain-JSON description of the verdict (audit record and check metadata)."""
    return {
        "verdict": verdict.status,
        "note": verdict.note,
        "rates_by_tier": {
            r.tier: {"rate": r.rate, "se": r.se, "inspections": r.inspections, "problems": r.problems} for r in rates
        },
        "inversions": [f"{p.lower}>{p.higher}" for p in verdict.inversions],
        "skipped_tiers": list(verdict.skipped),
        **funnel,
    }


def _ordering_rows(
    rates: Sequence[TierRate], verdict: OrderVerdict, funnel: dict[str, Any], z: float
) -> list[dict[str, Any]]:
    rows = [
        _row(
            "problem_rate",
            r.tier,
            r.rate,
            None,
            "reported" if r.enough else "too_few",
            r.inspections,
            None,
            {"se": r.se, "problems": r.problems, "weight_sum": r.weight_sum, "effective_n": r.effective_n},
        )
        for r in rates
    ]
    rows += [
        _row(
            "tier_order",
            f"{p.lower}<{p.higher}",
            p.z,
            z,
            p.status,
            None,
            None,
            {"difference": p.difference, "se_difference": p.se},
        )
        for p in verdict.pairs
    ]
    detail = {"note": verdict.note, "skipped_tiers": list(verdict.skipped), **funnel}
    rows.append(
        _row(
            "tier_order_verdict",
            "A<B<C<D",
            float(verdict.passed),
            z,
            verdict.status,
            funnel["random_inspections"],
            None,
            detail,
        )
    )
    return rows


# --- the month's monitoring -------------------------------------------------------------------------------


def compute_month(
    conn: duckdb.DuckDBPyConnection,
    month: str,
    policy: MonitoringPolicy,
    registry: Registry | None = None,
    reference: tuple[dt.date, str] | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The monitoring rows of tier month M (in their stored order) and a summary; against `reference` (month,
    why) when given, else the policy's reference month. Reads only."""
    m = month_start(month)
    ref, why = reference or reference_month(conn, month, policy, registry)
    if ref is None:
        raise ValueError(f"model monitoring of {m:%Y-%m}: {why}")
    previous = (pd.Timestamp(m) - pd.DateOffset(months=1)).date()
    params = {"month": m, "reference": ref}
    scores = conn.execute(render("monitoring/model_scores.sql", {"score_column": policy.score_column}), params).df()
    indicators = conn.execute(
        render("monitoring/model_indicators.sql"), {**params, "columns": list(policy.key_indicators)}
    ).df()
    counts: dict[dt.date, dict[str, int]] = {}
    for when, tier, n in run_sql(conn, "monitoring/model_tier_mix.sql", {**params, "previous": previous}):
        counts.setdefault(when, {})[tier] = int(n)
    rates, verdict, funnel = ordering(conn, month, policy)
    rows = (
        score_drift(scores, policy)
        + indicator_drift(indicators, policy)
        + tier_mix(counts, m, ref, previous, policy)
        + _ordering_rows(rates, verdict, funnel, policy.z)
    )
    rows[0]["detail"]["reference"] = why  # the whole-population score row says why this reference month
    frame = pd.DataFrame(rows)
    frame.insert(0, "seq", np.arange(1, len(frame) + 1, dtype=np.int32))
    frame.insert(0, "month", m)
    frame["reference_month"] = ref
    frame["detail"] = [json.dumps(clean_json(d), ensure_ascii=False, sort_keys=True) for d in frame["detail"]]
    summary = {
        "month": f"{m:%Y-%m}",
        "reference_month": f"{ref:%Y-%m}",
        "reference_why": why,
        "verdict": verdict.status,
        "verdict_passed": verdict.passed,
        "note": verdict.note,
    }
    return frame, summary


def build_model_monitoring(
    conn: duckdb.DuckDBPyConnection,
    month: str,
    policy: MonitoringPolicy | None = None,
    registry: Registry | None = None,
) -> dict[str, Any]:
    """Compute tier month M's monitoring and replace the month in monitoring.model_monitoring in one transaction."""
    policy = policy or load_policy()
    frame, summary = compute_month(conn, month, policy, registry)
    conn.register("_model_monitoring_rows", frame)
    conn.execute("BEGIN TRANSACTION")
    try:
        written = run_sql(conn, "monitoring/model_replace.sql", {"month": month_start(month)})[0][0]
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    finally:
        conn.unregister("_model_monitoring_rows")
    return {**summary, "rows": int(written)}


def month_rows(conn: duckdb.DuckDBPyConnection, month: str) -> pd.DataFrame:
    """The stored monitoring of tier month M (empty when never computed), detail parsed."""
    if not run_sql(conn, "meta/table_exists.sql", {"schema": "monitoring", "table": "model_monitoring"})[0][0]:
        return pd.DataFrame()
    frame = conn.execute(render("monitoring/model_rows.sql"), {"month": month_start(month)}).df()
    frame["detail"] = [json.loads(d) if isinstance(d, str) else (d or {}) for d in frame["detail"]]
    return frame


# --- reporting --------------------------------------------------------------------------------------------


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
    conn: duckdb.DuckDBPyConnection, month: str, policy: MonitoringPolicy, registry: Registry | None = None
) -> tuple[dt.date, str] | None:
    """The reference month of the scorer that served the month before M - its promotion month, or the scorecard's
    first tiered month - and why; None when M has no month before it with tiers.

    A month in which a model starts serving is its own reference (drift shows from the next month on): compared
    with the previous scorer's reference instead, it shows how the new model moved scores and tiers."""
    before = (pd.Timestamp(month_start(month)) - pd.DateOffset(months=1)).strftime("%Y-%m")
    ref, why = reference_month(conn, before, policy, registry)
    return (ref, f"the reference of the scorer serving {before}: {why}") if ref is not None else None


def closing_lines(
    conn: duckdb.DuckDBPyConnection,
    month: str,
    policy: MonitoringPolicy | None = None,
    registry: Registry | None = None,
) -> list[str]:
    """summary_lines for M; when M is its own reference month, M against the previous scorer's reference month
    instead (computed here, read-only, as the monitoring asset computes it), saying so."""
    stored = month_rows(conn, month)
    m = month_start(month)
    if stored.empty or pd.Timestamp(stored["reference_month"].iloc[0]).date() != m:
        return summary_lines(conn, month, stored)
    policy = policy or load_policy()
    previous = previous_reference(conn, month, policy, registry)
    if previous is None:
        return summary_lines(conn, month, stored)
    frame, _ = compute_month(conn, month, policy, registry, previous)
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
    m = month_start(month)
    frame = month_rows(conn, month) if frame is None else frame
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
