"""Champion/challenger (冠军/挑战者模型): the month's model step and the promotion gate.

- `run_month(...)` does one month: cold start, no retraining (too few labels delivered since the last trained
  challenger), or train and compare with the champion on the same holdout; register and record the decision.
  The asset `model/risk_model` calls it.
- `decide(...)` is the promotion gate: the challenger against the champion and the scorecard, on one holdout, on
  the metric of config/model.yaml `promotion.decide_on`: by default the expected problems found per inspection at
  the plans' budget (metrics.found_at_budget), what the inspections need; or the weighted AUC. `verdict(...)` is
  the one line that says which metric decided and the three scorers' values, the other metric reported beside.
Plain Python, no Dagster.
"""

from __future__ import annotations

from collections.abc import Sequence
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
from zs_risk_pipeline.lib.sampling import plan_policy
from zs_risk_pipeline.lib.tiers.tier_policy import TierPolicy

# What each metric of promotion.decide_on is called in a decision, and how its value reads.
METRICS = {"found_at_budget": "expected problems found at the plans' budget", "auc": "weighted AUC"}
_UNITS = {"found_at_budget": " per inspection", "auc": ""}


def _value(measured: dict[str, Any] | None, metric: str) -> float:
    if measured is None:
        return float("nan")
    value = measured["found_at_budget"]["hit_rate"] if metric == "found_at_budget" else measured["auc"]
    return float("nan") if value is None else float(value)


def _shown(value: float) -> str:
    return f"{value:.4f}" if np.isfinite(value) else "undefined"


def decide(
    challenger: dict[str, Any],
    champion: dict[str, Any] | None,
    scorecard: dict[str, Any],
    config: model_config.ModelConfig,
) -> tuple[bool, list[str]]:
    """The promotion gate: (promote?, reasons for refusing). Same holdout for all three.

    It decides on `config.decide_on`: the challenger must not be below the scorecard, nor below the champion by
    more than the tolerance (for found_at_budget a share of the champion's hit rate, for auc a difference of AUC).
    A champion or scorecard whose value is undefined on the holdout cannot defend its place; a challenger whose
    value is undefined cannot take one. Whatever decides, the AUC must be defined and the tiers by score ordered
    A < B < C < D."""
    refusals = []
    if not np.isfinite(challenger["auc"]):
        refusals.append("the holdout has no problem found or no clean inspection: AUC undefined")
    if config.require_increasing_tiers and not challenger["tiers_increasing"]:
        refusals.append(
            "problem-found rate by tier does not rise strictly from A to D on the holdout: "
            f"{challenger['problem_rate_by_tier']}"
        )
    metric = config.decide_on
    name, unit = METRICS[metric], _UNITS[metric]
    own = _value(challenger, metric)
    if not np.isfinite(own):
        if metric == "found_at_budget":
            why = (
                "no plan of config/sampling_plans.yaml covers the whole city, so the plans' budget is 0"
                if not challenger["found_at_budget"]["budget"] > 0
                else "a tier the ratios inspect has no inspection on the holdout"
            )
            refusals.append(f"{name} undefined: {why}")
        return not refusals, refusals
    baseline = _value(scorecard, metric)
    if np.isfinite(baseline) and not own >= baseline:
        refusals.append(f"{name} {own:.4f}{unit} is below the scorecard baseline {baseline:.4f}")
    best = _value(champion, metric)
    if np.isfinite(best):
        if metric == "auc":
            floor, tolerance = best - config.auc_tolerance, f"{config.auc_tolerance}"
        else:
            floor, tolerance = best * (1.0 - config.hit_rate_tolerance), f"{config.hit_rate_tolerance:.1%}"
        if not own >= floor:
            refusals.append(
                f"{name} {own:.4f}{unit} is worse than the champion's {best:.4f} by more than the tolerance "
                f"{tolerance} (at least {floor:.4f} needed)"
            )
    return not refusals, refusals


def verdict(
    challenger: dict[str, Any],
    champion: dict[str, Any] | None,
    scorecard: dict[str, Any],
    config: model_config.ModelConfig,
) -> str:
    """One line saying which metric decided and the values of all three scorers for it, the other reported:
    "decided on expected problems found at the plans' budget per inspection: challenger 0.2310, champion 0.2460,
    scorecard 0.2200; reported: weighted AUC: challenger 0.7410, champion 0.7220, scorecard 0.7000"."""
    scorers = [("challenger", challenger), ("champion", champion), ("scorecard", scorecard)]

    def values(metric: str) -> str:
        return ", ".join(f"{who} {_shown(_value(m, metric))}" for who, m in scorers if m is not None)

    metric = config.decide_on
    other = next(m for m in METRICS if m != metric)
    return (
        f"decided on {METRICS[metric]}{_UNITS[metric]}: {values(metric)}; "
        f"reported: {METRICS[other]}{_UNITS[other]}: {values(other)}"
    )


def run_month(
    conn: duckdb.DuckDBPyConnection,
    month: str,
    population: pd.DataFrame,
    registry: Registry,
    scorecard: Scorecard,
    policy: TierPolicy,
    config: model_config.ModelConfig,
    plans: Sequence[plan_policy.SamplingPlan],
) -> dict[str, Any]:
    """The month's model step: load the labels known by the month's end, then `challenge`."""
    labels = model_labels.load_labels(conn, month, config)
    funnel = model_labels.label_funnel(conn, month, config)
    return challenge(labels, month, population, registry, scorecard, policy, config, plans, funnel)


def challenge(
    labels: pd.DataFrame,
    month: str,
    population: pd.DataFrame,
    registry: Registry,
    scorecard: Scorecard,
    policy: TierPolicy,
    config: model_config.ModelConfig,
    plans: Sequence[plan_policy.SamplingPlan],
    funnel: dict[str, int] | None = None,
) -> dict[str, Any]:
    """Train the month's challenger, compare it with the champion and the scorecard, record the decision.

    `population` is the month's feature table (for the tier cut-offs on the holdout and the tier sizes the plans
    inspect). The budget is that of the `plans` covering the whole city in an average month
    (plan_policy.monthly_ratios): every scorer is measured at the same ratios, so the hit rates compare equal
    budgets. Returns the decision, which is also written to the registry, with the metric that decided and its
    one-line verdict. Below the label threshold no model is trained (cold start).
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

    city = plan_policy.city_plans(plans)
    ratios = plan_policy.monthly_ratios(city)

    def measure(scored_holdout: Scored, population_points: np.ndarray) -> dict[str, Any]:
        return evaluate(y, wt, scored_holdout, hold, population_points, population, policy, ratios)

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
        "reasons": refusals if refusals else [f"passed the promotion gate on the holdout ({config.decide_on})"],
        "champion_after": entry["model_id"] if promote else champion_before,
        "decided_on": config.decide_on,
        "verdict": verdict(challenger, champion, baseline, config),
        "budget": {"plans": [p.id for p in city], "monthly_ratios": ratios},
        "holdout": {"challenger": challenger, "champion": champion, "scorecard": baseline},
    }
    registry.record_decision(label, decision)
    return decision


def _previous(month: str) -> str:
    return Month.of(month).previous().label
