"""The risk model (风险模型): labels, LightGBM training, calibration, points, reasons, evaluation.

- `model_config.load_config()` gives config/model.yaml (windows, LightGBM parameters, promotion gate).
- `load_labels(conn, month, config)` turns random inspections into weighted labels (sql/intermediate/labels.sql).
- `train(labels, month, config)` fits LightGBM with `lgb.train` on the older labels, stops early and calibrates
  (Platt) on the validation window; `RiskModel` scores, scales to points and explains with `pred_contrib`.
- `evaluate(...)` measures a scorer on the holdout (weighted AUC, KS, Brier, problem-found rate by tier, and the
  expected problems found at the plans' budget); the month's step and the promotion gate that use it are in
  promotion.py.

Points follow the PDO convention of config/scorecard.yaml (methods.md §1.5): every `pdo` points double the
odds of a problem; the model's reason points are its log-odds contributions on the same scale.
Plain Python, no Dagster; numpy and LightGBM over whole arrays.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from zs_risk_pipeline.lib.features.enterprise_monthly import Indicator, indicators
from zs_risk_pipeline.lib.model import labels as model_labels
from zs_risk_pipeline.lib.model import metrics, model_config
from zs_risk_pipeline.lib.model.scorecard import TOP_REASONS, Scorecard
from zs_risk_pipeline.lib.model.scorecard import feature_matrix as scorecard_columns
from zs_risk_pipeline.lib.tiers.tier_policy import TierPolicy, assign_tiers, cutoffs_from_shares


def feature_matrix(df: pd.DataFrame, names: list[str]) -> np.ndarray:
    """The named indicator columns as one float64 matrix (NULL → NaN, which LightGBM treats as missing)."""
    columns = scorecard_columns(df, names, "the model")
    return np.column_stack([columns[n] for n in names]) if names else np.empty((len(df), 0))


@dataclass(frozen=True)
class Scaling:
    """PDO scaling (methods.md §1.5): points = ref_points + pdo/ln2 · (log-odds − ln ref_odds)."""

    pdo: float
    ref_points: float
    ref_odds: float

    @property
    def factor(self) -> float:
        return self.pdo / math.log(2.0)

    def points(self, log_odds: np.ndarray) -> np.ndarray:
        return self.ref_points + self.factor * (np.asarray(log_odds, dtype="float64") - math.log(self.ref_odds))

    @classmethod
    def of(cls, scorecard: Scorecard) -> Scaling:
        return cls(scorecard.pdo, scorecard.ref_points, scorecard.ref_odds)


@dataclass(frozen=True)
class Scored:
    """What a scorer says about each row: raw score, calibrated probability, points and the top-3 reasons."""

    score: np.ndarray
    probability: np.ndarray
    points: np.ndarray
    reasons: pd.DataFrame  # reason_k, reason_k_zh, reason_k_en, reason_k_value, reason_k_points for k = 1..3


@dataclass
class RiskModel:
    """A trained LightGBM booster with its feature list and Platt calibration (logit p = a·raw + b)."""

    booster: lgb.Booster
    features: list[str]
    calibration: tuple[float, float]
    num_threads: int

    def raw(self, X: np.ndarray) -> np.ndarray:
        return self.booster.predict(X, raw_score=True, num_threads=self.num_threads)

    def log_odds(self, raw: np.ndarray) -> np.ndarray:
        a, b = self.calibration
        return a * raw + b

    def contributions(self, X: np.ndarray) -> np.ndarray:
        """pred_contrib: one column per feature plus the base value last; each row sums to the raw score."""
        return self.booster.predict(X, pred_contrib=True, num_threads=self.num_threads)

    def points(self, df: pd.DataFrame, scaling: Scaling) -> np.ndarray:
        """Points only, without reasons: a plain prediction, far cheaper than pred_contrib."""
        return scaling.points(self.log_odds(self.raw(feature_matrix(df, self.features))))

    def score(self, df: pd.DataFrame, scaling: Scaling, catalogue: dict[str, Indicator]) -> Scored:
        X = feature_matrix(df, self.features)
        contrib = self.contributions(X)
        raw = contrib.sum(axis=1)  # identical to predict(raw_score=True): the reasons add up by construction
        log_odds = self.log_odds(raw)
        # A feature's points: its log-odds contribution through the calibration slope, on the PDO scale.
        feature_points = scaling.factor * self.calibration[0] * contrib[:, :-1]
        top = np.argsort(-feature_points, axis=1, kind="stable")[:, :TOP_REASONS]  # strongest risk drivers first
        names = np.array(self.features, dtype=object)
        zh = np.array([catalogue[f].name_zh for f in self.features], dtype=object)
        reasons = {}
        for k in range(TOP_REASONS):  # three columns, each vectorised over all rows
            j = top[:, k]
            reasons[f"reason_{k + 1}"] = names[j]
            reasons[f"reason_{k + 1}_zh"] = zh[j]
            reasons[f"reason_{k + 1}_en"] = names[j]
            reasons[f"reason_{k + 1}_value"] = np.take_along_axis(X, j[:, None], axis=1)[:, 0]
            reasons[f"reason_{k + 1}_points"] = np.take_along_axis(feature_points, j[:, None], axis=1)[:, 0]
        return Scored(
            score=raw,
            probability=1.0 / (1.0 + np.exp(-log_odds)),
            points=scaling.points(log_odds),
            reasons=pd.DataFrame(reasons, index=df.index),
        )


def scorecard_scored(scorecard: Scorecard, df: pd.DataFrame) -> Scored:
    """The cold-start scorecard as a scorer: points are the score, reasons are its top-3 matching rules."""
    points, top = scorecard.top_rules(df)
    rules = scorecard.rules
    values = {r.indicator: df[r.indicator].to_numpy(dtype="float64", na_value=np.nan) for r in rules}
    reasons = {}
    pad = len(rules)  # index of "no reason"
    table = {
        "": np.array([r.indicator for r in rules] + [None], dtype=object),
        "_zh": np.array([r.reason_zh for r in rules] + [None], dtype=object),
        "_en": np.array([r.reason_en for r in rules] + [None], dtype=object),
        "_points": np.array([r.points for r in rules] + [np.nan], dtype="float64"),
    }
    value_matrix = np.column_stack([values[r.indicator] for r in rules] + [np.full(len(df), np.nan)])
    for k in range(TOP_REASONS):
        j = np.where(top[:, k] >= 0, top[:, k], pad)
        for suffix, column in table.items():
            reasons[f"reason_{k + 1}{suffix}"] = column[j]
        reasons[f"reason_{k + 1}_value"] = np.take_along_axis(value_matrix, j[:, None], axis=1)[:, 0]
    ordered = [f"reason_{k + 1}{s}" for k in range(TOP_REASONS) for s in ("", "_zh", "_en", "_value", "_points")]
    return Scored(
        score=points,
        probability=scorecard.probability(points),
        points=points,
        reasons=pd.DataFrame(reasons, index=df.index)[ordered],
    )


def lgb_params(config: model_config.ModelConfig, features: list[Indicator]) -> dict[str, Any]:
    return {
        **config.lightgbm,
        **model_config.FIXED_PARAMS,
        # Known directions of risk become monotone constraints; categorical codes have none.
        "monotone_constraints": [0 if f.kind == "categorical" else f.direction for f in features],
    }


def train(labels: pd.DataFrame, month: str, config: model_config.ModelConfig) -> tuple[RiskModel, dict[str, Any]]:
    """Fit on the train window, early-stop and calibrate on the validation window; returns model and facts."""
    catalogue = indicators()
    names = [f.name for f in catalogue]
    categorical = [f.name for f in catalogue if f.kind == "categorical"]
    w = model_labels.windows(labels, month, config)
    X = feature_matrix(labels, names)
    y = labels["label"].to_numpy(dtype="float64")
    weight = labels["weight"].to_numpy(dtype="float64")
    params = lgb_params(config, catalogue)
    dtrain = lgb.Dataset(
        X[w["train"]],
        y[w["train"]],
        weight=weight[w["train"]],
        feature_name=names,
        categorical_feature=categorical,
        free_raw_data=False,
        params={"verbosity": -1},
    )
    dvalid = lgb.Dataset(X[w["validation"]], y[w["validation"]], weight=weight[w["validation"]], reference=dtrain)
    booster = lgb.train(
        params,
        dtrain,
        num_boost_round=config.num_boost_round,
        valid_sets=[dvalid],
        valid_names=["validation"],
        callbacks=[lgb.early_stopping(config.early_stopping_rounds, first_metric_only=True, verbose=False)],
    )
    best = booster.best_iteration or booster.current_iteration()
    # Keep only the trees up to the best iteration, so the saved file is exactly the model that serves.
    booster = lgb.Booster(model_str=booster.model_to_string(num_iteration=best))
    raw_valid = booster.predict(X[w["validation"]], raw_score=True, num_threads=config.lightgbm["num_threads"])
    # Platt scaling on the validation window: the weights make it describe the population, not the sample.
    platt = LogisticRegression(C=1e6, solver="lbfgs", max_iter=1000)
    platt.fit(raw_valid.reshape(-1, 1), y[w["validation"]], sample_weight=weight[w["validation"]])
    calibration = (float(platt.coef_[0, 0]), float(platt.intercept_[0]))
    model = RiskModel(booster, names, calibration, int(config.lightgbm["num_threads"]))
    months = pd.to_datetime(labels["inspection_month"])
    facts = {
        "params": params,
        "num_boost_round": config.num_boost_round,
        "best_iteration": int(best),
        "features": names,
        "categorical_features": categorical,
        "calibration": {"method": "platt", "a": calibration[0], "b": calibration[1]},
        "windows": {
            part: {
                "from": str(months[mask].min().date()) if mask.any() else None,
                "to": str(months[mask].max().date()) if mask.any() else None,
                "labels": int(mask.sum()),
                "problems_found": int(y[mask].sum()),
            }
            for part, mask in w.items()
        },
    }
    return model, facts


def evaluate(
    y: np.ndarray,
    weight: np.ndarray,
    holdout: Scored,
    holdout_features: pd.DataFrame,
    population_points: np.ndarray,
    population: pd.DataFrame,
    policy: TierPolicy,
    ratios: Mapping[str, float],
) -> dict[str, Any]:
    """Metrics of one scorer on the holdout; tiers use cut-offs that split the month's population by policy.

    The tier ordering is measured on the tiers by score (the model's ranking) and, for information, after the
    hard overrides, which move a few firms by rule whatever their score. The expected problems found at the
    plans' budget (metrics.found_at_budget) inspect the tiers of the month's `population` (its features with
    `uscc`, scored `population_points`) at `ratios`, the share of each tier inspected a month, and take each
    tier's rate from the holdout; both after the overrides, since the plans draw from the published tiers.
    """
    if policy.method == "target_shares":
        cutoffs = cutoffs_from_shares(population_points, policy.target_shares)
    else:
        cutoffs = policy.cutoffs
    fixed = dataclasses.replace(policy, method="cutoffs", cutoffs=cutoffs)
    assigned = assign_tiers(holdout.points, holdout_features, fixed) if len(y) else None
    by_score = assigned["tier_by_score"].to_numpy() if assigned is not None else np.array([])
    final = assigned["tier"].to_numpy() if assigned is not None else np.array([])
    rates = metrics.rate_by_tier(y, by_score, weight) if len(y) else {}
    counts = {t: int((by_score == t).sum()) for t in "ABCD"}
    # The month's tiers as they would be published (ties broken by USCC, then the overrides): under target shares
    # the plans draw as many firms whichever scorer tiers them, but for the overrides.
    published = assign_tiers(population_points, population, policy, keys=population["uscc"].to_numpy())
    tier_sizes = {t: int((published["tier"].to_numpy() == t).sum()) for t in "ABCD"}
    return {
        "labels": len(y),
        "problems_found": int(y.sum()),
        "auc": metrics.weighted_auc(y, holdout.points, weight),
        "ks": metrics.ks(y, holdout.points, weight),
        "brier": metrics.brier(y, holdout.probability, weight),
        # The model's own ordering (tiers by score): what the promotion gate judges. The overrides are policy,
        # not model: their effect is reported beside it.
        "problem_rate_by_tier": rates,
        "labels_by_tier": counts,
        "tiers_increasing": metrics.is_increasing(rates) and all(counts[t] > 0 for t in "ABCD"),
        "problem_rate_after_overrides": metrics.rate_by_tier(y, final, weight) if len(y) else {},
        "labels_after_overrides": {t: int((final == t).sum()) for t in "ABCD"},
        "tier_cutoffs_points": cutoffs,
        # What the promotion gate decides on by default: found / budget (hit_rate) in a month, NaN if a tier the
        # ratios inspect has no holdout inspection.
        "found_at_budget": metrics.found_at_budget(y, final, weight, ratios, tier_sizes),
        "population_by_tier": tier_sizes,
    }
