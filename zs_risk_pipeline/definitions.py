"""The code location (代码位置): everything under defs/ plus the global policy applied in one place."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def build_defs() -> dg.Definitions:
    return dg.load_from_defs_folder(project_root=PROJECT_ROOT)


@dg.definitions
def defs() -> dg.Definitions:
    return build_defs()
