"""`zs-risk ui` (界面): the Dagster UI on a home."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from typing import TYPE_CHECKING

from zs_risk_pipeline.lib.core import settings

if TYPE_CHECKING:  # imported lazily at run time: `zs-risk --help` should not wait for Dagster
    pass
from zs_risk_pipeline.cli import common


def cmd_ui(args: argparse.Namespace) -> int:
    paths = common._use_home(args.home)
    if not os.environ.get(settings.PII_KEY_ENV):
        common._say(f"note: {settings.PII_KEY_ENV} is not set; runs launched from the UI will refuse to ingest.")
    if not os.environ.get("ZS_RISK_SIGNING_KEY"):
        common._say("note: ZS_RISK_SIGNING_KEY is not set; runs launched from the UI will refuse to publish and draw.")
    from zs_risk_pipeline.lib.core import resources

    root = resources.source_checkout()
    if root is not None:
        workspace, cwd = root / "workspace.yaml", root
    else:  # installed: the same code location, loaded by module name (no source tree to work in)
        workspace, cwd = paths.dagster_home / "workspace.yaml", paths.home
        workspace.write_text(
            "load_from:\n  - python_module:\n      module_name: zs_risk_pipeline.definitions\n"
            "      location_name: zs_risk_pipeline\n",
            encoding="utf-8",
        )
    cmd = [sys.executable, "-m", "dagster", "dev", "-w", str(workspace), "-h", args.host, "-p", str(args.port)]
    common._say(f"Dagster UI for {paths.home} on http://{args.host}:{args.port}")
    return subprocess.call(cmd, cwd=cwd)
