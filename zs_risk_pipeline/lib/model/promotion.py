"""Champion/challenger (冠军/挑战者模型): the month's model step and the promotion gate.

- `run_month(...)` does one month: cold start, no retraining (too few labels delivered since the last trained
  challenger), or train and compare with the champion on the same holdout; register and record the decision.
  The asset `model/risk_model` calls it.
- `decide(...)` is the promotion gate: the challenger against the champion and the scorecard, on one holdout.
Plain Python, no Dagster.
"""

from __future__ import annotations

from typing import Any

import duckdb
import numpy as np
import pandas as pd

from zs_risk_pipeline.lib.core.month import Month
from zs_risk_pipeline.lib.features.enterprise_monthly import indicators
from zs_risk_pipeline.lib.model import labels as model_labels
from zs_risk_pipeline.lib.model import model_config
from zs_risk_pipeline.lib.model.registry import Registry, RegistryError
from zs_risk_pipeline.lib.model.scorecard import Scorecard
from zs_risk_pipeline.lib.model.training import RiskModel, Scaling, Scored, evaluate, scorecard_scored, train
from zs_risk_pipeline.lib.tiers.tier_policy import TierPolicy


def decide(
    challenger: dict[str, Any],
    champion: dict[str, Any] | None,
    scorecard: dict[str, Any],
    config: model_config.ModelConfig,
) -> tuple[bool, list[str]]:
    """The promotion gate: (promote?, reasons for refusing). Same holdout for all three."""
    refusals = []
    auc = challenger["auc"]
    if not np.isfinite(auc):
        refusals.append("the holdout has no problem found or no clean inspection: AUC undefined")
    if config.require_increasing_tiers and not challenger["tiers_increasing"]:
        refusals.append(
            "problem-found rate by tier does not rise strictly from A to D on the holdout: "
            f"{challenger['problem_rate_by_tier']}"
        )
    if np.isfinite(scorecard["auc"]) and not auc >= scorecard["auc"]:
        refusals.append(f"weighted AUC {auc:.4f} is below the scorecard baseline {scorecard['auc']:.4f}")
    if champion is not None and np.isfinite(champion["auc"]) and not auc >= champion["auc"] - config.auc_tolerance:
        refusals.append(
            f"weighted AUC {auc:.4f} is worse than the champion's {champion['auc']:.4f} "
            f"by more than the tolerance {config.auc_tolerance}"
        )
    return not refusals, refusals


def run_month(
    conn: duckdb.DuckDBPyConnection,
    month: str,
    population: pd.DataFrame,
    registry: Registry,
    scorecard: Scorecard,
    policy: TierPolicy,
    config: model_config.ModelConfig,
) -> dict[str, Any]:
    """The month's model step: load the labels known by the month's end, then `challenge`."""
    labels = model_labels.load_labels(conn, month, config)
    funnel = model_labels.label_funnel(conn, month, config)
    return challenge(labels, month, population, registry, scorecard, policy, config, funnel)


def challenge(
    labels: pd.DataFrame,
    month: str,
    population: pd.DataFrame,
    registry: Registry,
    scorecard: Scorecard,
    policy: TierPolicy,
    config: model_config.ModelConfig,
    funnel: dict[str, int] | None = None,
) -> dict[str, Any]:
    """Train the month's challenger, compare it with the champion and the scorecard, record the decision.

    `population` is the month's feature table (for the tier cut-offs on the holdout). Returns the decision,
    which is also written to the registry. Below the label threshold no model is trained (cold start).
    """
    label = month[:7]
    champion_before = registry.champion_as_of(_previous(label))
    base = {
        "champion_before": champion_before,
        "min_labels": scorecard.min_labels,
        "labels": len(labels),
        "funnel": funnel,  # from run_month: where every random inspection of the month went
    }
    w = model_labels.windows(labels, month, config)
    sizes = {part: int(mask.sum()) for part, mask in w.items()}
    problems = {part: int(labels["label"].to_numpy()[mask].sum()) for part, mask in w.items()}
    cold = scorecard.use_scorecard(len(labels))
    empty = [p for p in ("train", "validation", "holdout") if sizes[p] == 0 or problems[p] in (0, sizes[p])]
    if cold or empty:
        why = (
            f"cold start: {len(labels)} labels, fewer than the {scorecard.min_labels} required"
            if cold
            else f"windows without both outcomes: {empty} (sizes {sizes}, problems found {problems})"
        )
        decision = {
            **base,
            "status": "cold_start",
            "trained": None,
            "promoted": False,
            "reasons": [why],
            "champion_after": champion_before,
        }
        registry.record_decision(label, decision)
        return decision

    last = registry.last_trained_before(label)
    if last is not None:
        new_labels = int((pd.to_datetime(labels["delivered_month"]) > pd.Timestamp(f"{last[0]}-01")).sum())
        base["new_labels_since_last_training"] = new_labels
        if new_labels < config.min_new_labels:
            decision = {
                **base,
                "status": "not_retrained",
                "trained": None,
                "promoted": False,
                "reasons": [
                    f"{new_labels} labels delivered since {last[1]} was trained ({last[0]}), fewer than the "
                    f"{config.min_new_labels} that call for retraining (retraining.min_new_labels)"
                ],
                "champion_after": champion_before,
            }
            registry.record_decision(label, decision)
            return decision

    model, facts = train(labels, month, config)
    scaling = Scaling.of(scorecard)
    catalogue = {i.name: i for i in indicators()}
    hold = labels[w["holdout"]].reset_index(drop=True)
    y = hold["label"].to_numpy(dtype="float64")
    wt = hold["weight"].to_numpy(dtype="float64")

    def measure(scored_holdout: Scored, population_points: np.ndarray) -> dict[str, Any]:
        return evaluate(y, wt, scored_holdout, hold, population_points, policy)

    challenger = measure(model.score(hold, scaling, catalogue), model.points(population, scaling))
    baseline = measure(scorecard_scored(scorecard, hold), scorecard.top_rules(population)[0])
    champion = None
    if champion_before is not None:
        try:
            booster, entry = registry.load(champion_before)
            old = RiskModel(booster, entry["features"], tuple(entry["calibration_ab"]), model.num_threads)
            champion = measure(old.score(hold, scaling, catalogue), old.points(population, scaling))
        except (RegistryError, KeyError) as e:
            # A champion that cannot be verified or no longer fits the features cannot defend its place.
            champion = None
            base["champion_unusable"] = str(e)
    promote, refusals = decide(challenger, champion, baseline, config)
    entry = registry.save(
        model.booster.model_to_string(),
        {
            **facts,
            "calibration_ab": list(model.calibration),
            "label_counts": {"labels": len(labels), **sizes, "problems_found": problems},
            "metrics": {"holdout": challenger, "scorecard_on_holdout": baseline},
            "config_version": config.version,
        },
        label,
    )
    decision = {
        **base,
        "status": "promoted" if promote else "kept_champion",
        "trained": entry["model_id"],
        "promoted": promote,
        "reasons": refusals if refusals else ["passed the promotion gate on the holdout"],
        "champion_after": entry["model_id"] if promote else champion_before,
        "holdout": {"challenger": challenger, "champion": champion, "scorecard": baseline},
    }
    registry.record_decision(label, decision)
    return decision


def _previous(month: str) -> str:
    return Month.of(month).previous().label
