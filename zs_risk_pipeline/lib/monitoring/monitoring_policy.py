"""Model-monitoring policy (模型监测口径): config/monitoring.yaml, and which month is the reference.

`load_policy()` is the model_monitoring section of the policy folder in use (validated by
lib/policy/monitoring.py); `load_policy(path)` validates one file the same way.

Plain Python, no Dagster.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb

from zs_risk_pipeline.lib.core.month import Month
from zs_risk_pipeline.lib.core.sql import run_sql
from zs_risk_pipeline.lib.model.registry import Registry
from zs_risk_pipeline.lib.policy import base, folder
from zs_risk_pipeline.lib.policy.monitoring import (
    REFERENCE_POLICIES,
    SCORE_COLUMNS,
    STRATA,
    TIERS,
    MonitoringFile,
    MonitoringPolicy,
)

__all__ = [
    "REFERENCE_POLICIES",
    "SCORE_COLUMNS",
    "STRATA",
    "TIERS",
    "MonitoringPolicy",
    "load_policy",
    "promotion_month",
    "reference_month",
]


def load_policy(path: Path | None = None) -> MonitoringPolicy:
    """The model-monitoring policy of the policy folder in use, or of the file `path` (validated the same way)."""
    if path is None:
        return folder.current().monitoring
    return base.load_file(MonitoringFile, path).model_monitoring.build()


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
