"""Model-monitoring policy (模型监测口径): config/monitoring.yaml, and which month is the reference.

Plain Python, no Dagster.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import yaml

from zs_risk_pipeline.lib.core import resources
from zs_risk_pipeline.lib.core.month import Month
from zs_risk_pipeline.lib.core.sql import run_sql
from zs_risk_pipeline.lib.features import enterprise_monthly
from zs_risk_pipeline.lib.model.registry import Registry

CONFIG_PATH = resources.config_file("monitoring.yaml")


SECTION = "model_monitoring"


TIERS = ("A", "B", "C", "D")


REFERENCE_POLICIES = ("serving_model", "pinned")


SCORE_COLUMNS = ("points", "score", "probability")


STRATA = ("town_no", "reference_tier")


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
    if pinned is not None and (not isinstance(pinned, str) or not Month.is_label(pinned)):
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
        pinned_month=Month.of(pinned).start if pinned else None,
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
    m = Month.of(month).start
    versions = {
        row[0]: row[1]
        for row in run_sql(conn, "intermediate/monitoring.model_monitoring.sql#tiered_months", {"month": m})
    }
    if m not in versions:
        return None, f"{m:%Y-%m} has no tiers"
    note = ""
    if policy.reference == "pinned" and policy.pinned_month is not None and policy.pinned_month <= m:
        if policy.pinned_month in versions:
            return policy.pinned_month, f"pinned in config ({policy.pinned_month:%Y-%m})"
        note = f"; pinned {policy.pinned_month:%Y-%m} has no tiers"
    if registry is not None:
        champion, since = promotion_month(registry.decisions(), f"{m:%Y-%m}")
        if champion is not None and since is not None and Month.of(since).start in versions:
            return Month.of(since).start, f"{champion} promoted in {since}{note}"
    first = min(k for k, v in versions.items() if v == versions[m])
    return first, f"first month tiered by {versions[m]}{note}"
