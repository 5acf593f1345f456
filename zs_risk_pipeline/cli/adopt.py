"""`zs-risk adopt-ratios` (采纳抽查比例调整建议): an operator adopts a month's proposal of ratios into the policy."""

from __future__ import annotations

import argparse

from zs_risk_pipeline.cli import common
from zs_risk_pipeline.lib.core import settings
from zs_risk_pipeline.lib.sampling import adoption


def adopt(paths: settings.Paths, month: str) -> adoption.Adoption:
    """The proposal of tier month `month` written into the policy folder in use; AdoptionError says why not."""
    import duckdb

    with duckdb.connect(str(paths.warehouse), read_only=True) as conn:
        return adoption.adopt(conn, month, paths.reports)


def cmd_adopt_ratios(args: argparse.Namespace) -> int:
    paths = common._use_home(args.home)
    try:
        done = adopt(paths, args.month)
    except adoption.AdoptionError as e:
        raise common.UsageError(str(e)) from None
    for line in done.lines():
        common._say(line)
    if done.changes:
        common._say("the plans already published keep their ratios; the next draws use the adopted ones")
    return 0
