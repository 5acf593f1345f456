"""Monthly scoring and tiering (月度评分与分类): every enterprise alive at month end gets a tier A/B/C/D.

`build_tiers(conn, month, registry, ...)` scores the month's features with the model serving that month
(the registry's champion as of the month) or, during cold start, with the points scorecard; applies the
tier policy (shares or cut-offs, then hard overrides); and replaces the month of tiers.enterprise_monthly.
Every row carries its model version, score, calibrated probability, points and top-3 reasons.
Plain Python, no Dagster; the SQL is sql/intermediate/tiers.enterprise_monthly.sql.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from zs_risk_pipeline.lib.core.db import transaction
from zs_risk_pipeline.lib.core.month import Month
from zs_risk_pipeline.lib.core.sql import run_sql
from zs_risk_pipeline.lib.features.enterprise_monthly import indicators
from zs_risk_pipeline.lib.model import metrics
from zs_risk_pipeline.lib.model.registry import Registry
from zs_risk_pipeline.lib.model.scorecard import Scorecard
from zs_risk_pipeline.lib.model.training import RiskModel, Scaling, Scored, scorecard_scored
from zs_risk_pipeline.lib.policy import versions as policies
from zs_risk_pipeline.lib.policy.folder import Policy
from zs_risk_pipeline.lib.tiers.tier_policy import TierPolicy, assign_tiers

TABLE = "tiers.enterprise_monthly"


def scorecard_version(scorecard: Scorecard) -> str:
    """Version of the scorecard that scored a month: its declared version and the hash of its file's bytes."""
    return f"scorecard-v{scorecard.version}-{scorecard.digest}"


@dataclass(frozen=True)
class Serving:
    """The scorer serving a month: a registered LightGBM model, or the scorecard during cold start."""

    version: str
    kind: str  # lightgbm | scorecard
    model: RiskModel | None

    def score(self, population: pd.DataFrame, scorecard: Scorecard) -> Scored:
        if self.model is None:
            return scorecard_scored(scorecard, population)
        return self.model.score(population, Scaling.of(scorecard), {i.name: i for i in indicators()})


def serving(registry: Registry, month: str, scorecard: Scorecard, num_threads: int = 2) -> Serving:
    """The champion as of `month` (loaded only if its file matches the registry) or the scorecard."""
    model_id = registry.champion_as_of(month[:7])
    if model_id is None:
        return Serving(scorecard_version(scorecard), "scorecard", None)
    booster, entry = registry.load(model_id)
    model = RiskModel(booster, entry["features"], tuple(entry["calibration_ab"]), num_threads)
    return Serving(model_id, "lightgbm", model)


def tier_frame(
    month: str, population: pd.DataFrame, scorer: Serving, scorecard: Scorecard, policy: TierPolicy
) -> pd.DataFrame:
    """One row per enterprise of `population` with score, probability, points, tier, override and reasons."""
    scored = scorer.score(population, scorecard)
    tiers = assign_tiers(scored.points, population, policy, keys=population["uscc"].to_numpy())
    frame = pd.DataFrame(
        {
            "month": Month.of(month).start,
            "uscc": population["uscc"].to_numpy(),
            "model_version": scorer.version,
            "model_kind": scorer.kind,
            "score": scored.score,
            "probability": scored.probability,
            "points": scored.points,
            "tier_by_score": tiers["tier_by_score"].to_numpy(),
            "tier": tiers["tier"].to_numpy(),
            "override": tiers["override"].to_numpy(),
            "override_reason_zh": tiers["override_reason_zh"].to_numpy(),
            "override_reason_en": tiers["override_reason_en"].to_numpy(),
        }
    )
    reasons = scored.reasons.reset_index(drop=True)
    return pd.concat([frame, reasons], axis=1)


def write_month(conn: duckdb.DuckDBPyConnection, month: str, frame: pd.DataFrame) -> int:
    """Replace the month in tiers.enterprise_monthly in one transaction; rows written."""
    run_sql(conn, "intermediate/tiers.enterprise_monthly.sql")
    with transaction(conn, {"_tiers_frame": frame}):
        rows = run_sql(
            conn, "intermediate/tiers.enterprise_monthly.sql#replace_month", {"month": Month.of(month).start}
        )[0][0]
    return int(rows)


def build_tiers(
    conn: duckdb.DuckDBPyConnection,
    month: str,
    population: pd.DataFrame,
    registry: Registry,
    scorecard: Scorecard,
    policy: TierPolicy,
    under: Policy | None = None,
) -> dict[str, Any]:
    """Score and tier the month's population and write it; returns what the asset reports. The rows record the
    policy version of `under` (the policy folder they were computed under; default: the folder in use)."""
    scorer = serving(registry, month, scorecard)
    frame = tier_frame(month, population, scorer, scorecard, policy)
    version = policies.current("tiers", under)
    frame["policy_version"] = version.version  # a rerun under another policy is a visible restatement
    rows = write_month(conn, month, frame)
    mix = frame["tier"].value_counts().reindex(list("ABCD"), fill_value=0)
    by_score = frame["tier_by_score"].value_counts().reindex(list("ABCD"), fill_value=0)
    overrides = frame["override"].value_counts()
    return {
        "rows": rows,
        "model_version": scorer.version,
        "model_kind": scorer.kind,
        "policy_version": version.version,
        "policy_files": version.files,
        "tier_counts": {t: int(mix[t]) for t in "ABCD"},
        "tier_shares": {t: round(float(mix[t]) / max(rows, 1), 4) for t in "ABCD"},
        "tier_by_score_shares": {t: round(float(by_score[t]) / max(rows, 1), 4) for t in "ABCD"},
        "overrides": {str(k): int(v) for k, v in overrides.items()},
        "mean_points_by_tier": {
            t: round(float(np.mean(frame.loc[frame["tier"] == t, "points"])), 2) for t in "ABCD" if mix[t]
        },
    }


# --- what the blocking checks verify ----------------------------------------------------------------------


def serving_problems(
    conn: duckdb.DuckDBPyConnection, month: str, registry: Registry, scorecard: Scorecard
) -> tuple[list[str], dict[str, Any]]:
    """Problems with the model behind a month of tiers: not the one the registry says serves the month, more
    than one version, or a model file whose SHA-256 differs from the registry's (tampered or replaced)."""
    versions = run_sql(
        conn, "intermediate/tiers.enterprise_monthly.sql#model_versions", {"month": Month.of(month).start}
    )
    model_id = registry.champion_as_of(month[:7])
    expected = model_id if model_id is not None else scorecard_version(scorecard)
    problems = []
    if [v[0] for v in versions] != [expected]:
        problems.append(f"tiers were scored by {[v[0] for v in versions]}, the registry says {expected} serves")
    if model_id is not None:
        problems += registry.verify(model_id)
    detail = {"expected_model_version": expected, "versions_in_table": {v[0]: int(v[2]) for v in versions}}
    if model_id is not None and not problems:
        detail["model_sha256"] = registry.entry(model_id)["sha256"]
    return problems, detail


def holdout_ordering(registry: Registry, month: str) -> tuple[bool, dict[str, Any]]:
    """Whether the model serving `month` showed a problem-found rate rising strictly A < B < C < D (tiers by
    score) on its holdout when it was promoted. During cold start no model serves: the scorecard is a fixed rule set."""
    model_id = registry.champion_as_of(month[:7])
    if model_id is None:
        return True, {"note": "cold start: the points scorecard serves; no trained model to hold to its holdout"}
    holdout = registry.entry(model_id)["metrics"]["holdout"]
    rates = holdout["problem_rate_by_tier"]
    # A tier without labels was stored as null: its order is not shown, so the ordering fails.
    shown = {t: float("nan") if v is None else v for t, v in rates.items()}
    ok = bool(holdout["tiers_increasing"]) and set(shown) >= set("ABCD") and metrics.is_increasing(shown)
    return ok, {
        "model_version": model_id,
        "holdout_problem_rate_by_tier": rates,
        "holdout_labels_by_tier": holdout["labels_by_tier"],
        "holdout_problem_rate_after_overrides": holdout.get("problem_rate_after_overrides"),
        "holdout_auc": holdout["auc"],
    }
