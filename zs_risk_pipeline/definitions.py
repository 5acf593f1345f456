"""The code location (代码位置): everything under defs/ plus the global policy applied in one place."""

from __future__ import annotations

import importlib
import warnings
from pathlib import Path

import dagster as dg
from dagster.components.core.component_tree import ComponentTree

from zs_risk_pipeline.defs import global_policy
from zs_risk_pipeline.lib.core import resources

PROJECT_ROOT = Path(__file__).resolve().parent.parent
LOCATION_NAME = "zs_risk_pipeline"  # as pyproject.toml [tool.dg.project] names it


def _load() -> dg.Definitions:
    if resources.source_checkout() is not None:
        return dg.load_from_defs_folder(project_root=PROJECT_ROOT)
    # Installed, there is no pyproject.toml beside the package to find the defs folder by: load it by module.
    defs_module = importlib.import_module("zs_risk_pipeline.defs")
    tree = ComponentTree(defs_module=defs_module, project_root=PROJECT_ROOT, code_location_name=LOCATION_NAME)
    return tree.build_defs()


def build_defs() -> dg.Definitions:
    """Everything under defs/, with the global policy (owners, kinds and tags by group) applied to every asset."""
    defs = _load()
    with warnings.catch_warnings():  # map_asset_specs is marked preview in 1.13 (pinned <1.14): said once here
        warnings.simplefilter("ignore", dg.PreviewWarning)
        return defs.map_asset_specs(func=global_policy.apply)


@dg.definitions
def defs() -> dg.Definitions:
    return build_defs()
