"""config/model.yaml (模型口径): how the monthly LightGBM challenger is trained, evaluated and promoted.

ModelFile validates the file as it is written; ModelConfig is what training reads (lib/model/).

Plain Python, no Dagster.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import AfterValidator

from zs_risk_pipeline.lib.policy.base import PositiveInt, StrictModel, in_range, one_of

# What the promotion gate decides on (promotion.decide_on): the expected problems found per inspection at the plans'
# budget (lib/model/metrics.found_at_budget), or the weighted AUC. The other is reported beside it.
DECIDE_ON = ("found_at_budget", "auc")

# Always set, whatever the YAML says: the same data must give the same model, byte for byte.
FIXED_PARAMS = {
    "objective": "binary",
    "deterministic": True,
    "force_row_wise": True,
    "verbosity": -1,
    "feature_pre_filter": False,
}


@dataclass(frozen=True)
class ModelConfig:
    version: int
    holdout_months: int
    validation_months: int
    max_history_months: int
    lightgbm: dict[str, Any]
    num_boost_round: int
    early_stopping_rounds: int
    decide_on: str  # one of DECIDE_ON
    hit_rate_tolerance: float
    auc_tolerance: float
    require_increasing_tiers: bool
    min_new_labels: int


def _lightgbm(params: dict[str, Any]) -> dict[str, Any]:
    if "seed" not in params or "num_threads" not in params:
        raise ValueError("must fix seed and num_threads (determinism)")
    clash = sorted(set(params) & set(FIXED_PARAMS))
    if clash:
        raise ValueError(f"must not set {clash}: the pipeline fixes them")
    return params


class Windows(StrictModel):
    holdout_months: PositiveInt
    validation_months: PositiveInt
    max_history_months: PositiveInt


class Retraining(StrictModel):
    min_new_labels: PositiveInt


class Promotion(StrictModel):
    decide_on: Annotated[str, one_of(DECIDE_ON)] = "found_at_budget"
    hit_rate_tolerance: Annotated[float, in_range(0, 1, open_hi=True)] = 0.02  # a share of the champion's
    auc_tolerance: Annotated[float, in_range(0, 1, open_hi=True)]
    require_increasing_tiers: bool = True


class ModelFile(StrictModel):
    """config/model.yaml as written."""

    version: PositiveInt
    windows: Windows
    lightgbm: Annotated[dict[str, Any], AfterValidator(_lightgbm)]
    num_boost_round: PositiveInt
    early_stopping_rounds: PositiveInt
    retraining: Retraining
    promotion: Promotion

    def build(self) -> ModelConfig:
        return ModelConfig(
            version=self.version,
            holdout_months=self.windows.holdout_months,
            validation_months=self.windows.validation_months,
            max_history_months=self.windows.max_history_months,
            lightgbm=dict(self.lightgbm),
            num_boost_round=self.num_boost_round,
            early_stopping_rounds=self.early_stopping_rounds,
            decide_on=self.promotion.decide_on,
            hit_rate_tolerance=float(self.promotion.hit_rate_tolerance),
            auc_tolerance=float(self.promotion.auc_tolerance),
            require_increasing_tiers=self.promotion.require_increasing_tiers,
            min_new_labels=self.retraining.min_new_labels,
        )
