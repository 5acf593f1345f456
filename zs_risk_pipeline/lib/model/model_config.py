"""The risk model's policy (模型口径): config/model.yaml as a ModelConfig (validated by lib/policy/model.py).

Plain Python, no Dagster.
"""

from __future__ import annotations

from pathlib import Path

from zs_risk_pipeline.lib.policy import base, folder
from zs_risk_pipeline.lib.policy.model import DECIDE_ON, FIXED_PARAMS, ModelConfig, ModelFile

__all__ = ["DECIDE_ON", "FIXED_PARAMS", "ModelConfig", "load_config"]


def load_config(path: Path | None = None) -> ModelConfig:
    """The model policy of the policy folder in use, or of the file `path` (validated the same way)."""
    return folder.current().model if path is None else base.load_file(ModelFile, path).build()
