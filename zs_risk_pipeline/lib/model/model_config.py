"""The risk model's policy (模型口径): config/model.yaml as a validated ModelConfig.

Plain Python, no Dagster.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from zs_risk_pipeline.lib.core import resources

CONFIG_PATH = resources.config_file("model.yaml")


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
    auc_tolerance: float
    require_increasing_tiers: bool
    min_new_labels: int


def _positive_int(value: Any, field: str, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{where}: {field} must be a positive integer, got {value!r}")
    return value


def load_config(path: Path | None = None) -> ModelConfig:
    """Read and validate config/model.yaml (or `path`)."""
    path = path or CONFIG_PATH
    doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    name = path.name
    windows = doc.get("windows") or {}
    params = doc.get("lightgbm")
    if not isinstance(params, dict) or "seed" not in params or "num_threads" not in params:
        raise ValueError(f"{name}: lightgbm must be a mapping that fixes seed and num_threads (determinism)")
    clash = sorted(set(params) & set(FIXED_PARAMS))
    if clash:
        raise ValueError(f"{name}: lightgbm must not set {clash}: the pipeline fixes them")
    promotion = doc.get("promotion") or {}
    tolerance = promotion.get("auc_tolerance")
    if isinstance(tolerance, bool) or not isinstance(tolerance, int | float) or not 0 <= tolerance < 1:
        raise ValueError(f"{name}: promotion.auc_tolerance must be a number in [0, 1), got {tolerance!r}")
    return ModelConfig(
        version=_positive_int(doc.get("version"), "version", name),
        holdout_months=_positive_int(windows.get("holdout_months"), "windows.holdout_months", name),
        validation_months=_positive_int(windows.get("validation_months"), "windows.validation_months", name),
        max_history_months=_positive_int(windows.get("max_history_months"), "windows.max_history_months", name),
        lightgbm=dict(params),
        num_boost_round=_positive_int(doc.get("num_boost_round"), "num_boost_round", name),
        early_stopping_rounds=_positive_int(doc.get("early_stopping_rounds"), "early_stopping_rounds", name),
        auc_tolerance=float(tolerance),
        require_increasing_tiers=bool(promotion.get("require_increasing_tiers", True)),
        min_new_labels=_positive_int(
            (doc.get("retraining") or {}).get("min_new_labels"), "retraining.min_new_labels", name
        ),
    )
