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
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from zs_risk_pipeline.lib.core.db import transaction
from zs_risk_pipeline.lib.core.month import Month
from zs_risk_pipeline.lib.core.sql import render, run_sql, table_exists
from zs_risk_pipeline.lib.model.registry import Registry, clean_json
from zs_risk_pipeline.lib.monitoring import drift_checks, monitoring_policy, ordering


def compute_month(
    conn: duckdb.DuckDBPyConnection,
    month: str,
    policy: monitoring_policy.MonitoringPolicy,
    registry: Registry | None = None,
    reference: tuple[dt.date, str] | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The monitoring rows of tier month M (in their stored order) and a summary; against `reference` (month,
    why) when given, else the policy's reference month. Reads only."""
    m = Month.of(month).start
    ref, why = reference or monitoring_policy.reference_month(conn, month, policy, registry)
    if ref is None:
        raise ValueError(f"model monitoring of {m:%Y-%m}: {why}")
    previous = Month.of(m).previous().start
    params = {"month": m, "reference": ref}
    scores = conn.execute(
        render("intermediate/monitoring.model_monitoring.sql#scores", {"score_column": policy.score_column}), params
    ).df()
    indicators = conn.execute(
        render("intermediate/monitoring.model_monitoring.sql#indicators"),
        {**params, "columns": list(policy.key_indicators)},
    ).df()
    counts: dict[dt.date, dict[str, int]] = {}
    for when, tier, n in run_sql(
        conn, "intermediate/monitoring.model_monitoring.sql#tier_mix", {**params, "previous": previous}
    ):
        counts.setdefault(when, {})[tier] = int(n)
    rates, verdict, funnel = ordering.ordering(conn, month, policy)
    rows = (
        drift_checks.score_drift(scores, policy)
        + drift_checks.indicator_drift(indicators, policy)
        + drift_checks.tier_mix(counts, m, ref, previous, policy)
        + ordering._ordering_rows(rates, verdict, funnel, policy.z)
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
    policy: monitoring_policy.MonitoringPolicy | None = None,
    registry: Registry | None = None,
) -> dict[str, Any]:
    """Compute tier month M's monitoring and replace the month in monitoring.model_monitoring in one transaction."""
    policy = policy or monitoring_policy.load_policy()
    frame, summary = compute_month(conn, month, policy, registry)
    with transaction(conn, {"_model_monitoring_rows": frame}):
        run_sql(conn, "intermediate/monitoring.model_monitoring.sql")
        written = run_sql(
            conn, "intermediate/monitoring.model_monitoring.sql#replace_month", {"month": Month.of(month).start}
        )[0][0]
    return {**summary, "rows": int(written)}


def month_rows(conn: duckdb.DuckDBPyConnection, month: str) -> pd.DataFrame:
    """The stored monitoring of tier month M (empty when never computed), detail parsed."""
    if not table_exists(conn, "monitoring", "model_monitoring"):
        return pd.DataFrame()
    frame = conn.execute(
        render("intermediate/monitoring.model_monitoring.sql#month_rows"), {"month": Month.of(month).start}
    ).df()
    frame["detail"] = [json.loads(d) if isinstance(d, str) else (d or {}) for d in frame["detail"]]
    return frame
