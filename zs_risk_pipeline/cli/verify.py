"""Verifying a home (核验): `zs-risk verify`, `verify-draw` and `repoint`, with the public key only."""

from __future__ import annotations

import argparse
import difflib
from pathlib import Path
from typing import TYPE_CHECKING

from zs_risk_pipeline.lib.core import settings
from zs_risk_pipeline.lib.publish import tables, verify
from zs_risk_pipeline.lib.sampling import package

if TYPE_CHECKING:  # imported lazily at run time: `zs-risk --help` should not wait for Dagster
    pass
from zs_risk_pipeline.cli import common


def verify_all_draws(paths: settings.Paths) -> bool:
    """Recompute every drafted plan from its verification package and check its signed commitment (what
    `zs-risk verify-draw` does for one)."""
    from zs_risk_pipeline.lib.evidence import signing, verification

    verifier = signing.verifier_from_env()
    if verifier is None:
        common._say(f"plans not checked: set {signing.VERIFY_KEY_ENV} (the public half of {signing.SIGNING_KEY_ENV})")
        return False
    packages = verification.packages(paths.plans)
    bad = {p.name: problems for p in packages if (problems := verification.package_problems(p, verifier, None))}
    for name, problems in bad.items():
        common._say(f"MISMATCH in plan {name}: {problems[0]}")
    common._say(
        f"double-random plans re-drawn from their packages: {len(packages) - len(bad)} of {len(packages)} match"
    )
    return not bad


def cmd_verify(args: argparse.Namespace) -> int:
    """Check the whole home with the public key: publish log, signatures and heads, mart files and catalogue,
    plan packages against their signed commitments."""
    from zs_risk_pipeline.lib.evidence import signing, verification

    paths = common._read_home(args.home)
    verifier = common._verifier(args)
    if verifier is None:
        common._say(
            f"zs-risk verify needs the public key: set {signing.VERIFY_KEY_ENV} or pass --public-key "
            f"(the public half of {signing.SIGNING_KEY_ENV})"
        )
        return 2
    anything = paths.warehouse.exists() or tables.heads_file(paths.mart).exists() or (paths.mart / "data").exists()
    if not anything and not getattr(args, "head", None):
        common._say("nothing published yet")
        return 0
    report = verification.verify_home(paths, verifier, getattr(args, "head", None))
    for p in report.problems:
        common._say(f"TAMPERED: {p}")
    if report.problems:
        common._say(f"{len(report.problems)} problem(s)")
        return 1
    common._say(
        f"publish log ({report.entries} entries, signed by key {verifier.key_id}), mart files and catalogue, "
        f"{report.packages} plan packages and their signed commitments verified: intact"
    )
    if report.head:
        common._say(
            f"publish-log head: {report.head} (keep it outside the system: zs-risk verify --head {report.head})"
        )
    return 0


def cmd_repoint(args: argparse.Namespace) -> int:
    """Rebuild the mart's catalogue for the home where it now lies (after a copy, a move or a restore), once this
    home's publish log vouches for every file its views will read."""
    import duckdb

    paths = common._read_home(args.home)
    if not paths.mart.is_dir():  # never create a home: a mistyped one would get an empty mart
        common._say(f"no mart at {paths.mart}: not a zs-risk home (check --home or ${settings.HOME_ENV})")
        return 1
    conn = duckdb.connect(str(paths.warehouse), read_only=True) if paths.warehouse.exists() else None
    try:
        problems = verify.repoint(conn, paths.mart, common._verifier(args))
    finally:
        if conn is not None:
            conn.close()
    if problems:
        for p in problems:
            common._say(f"refused: {p}")
        common._say(f"{tables.MART_FILE} not re-pointed: this home's publish log does not vouch for its files")
        return 1
    common._say(f"{paths.mart / tables.MART_FILE} re-pointed: its views read this home's files ({paths.mart})")
    return 0


def cmd_verify_draw(args: argparse.Namespace) -> int:
    """Recompute a plan's selection, inspector pairs and amendments from its verification package alone, and check
    it against its signed seed commitment (and the home's record of it, when run on a home)."""
    import duckdb

    from zs_risk_pipeline.lib.core.sql import run_sql, table_exists
    from zs_risk_pipeline.lib.evidence import signing
    from zs_risk_pipeline.lib.sampling import amendments, drawing

    # With --package no home is needed: an auditor may hold nothing but the package.
    home = None if args.package else common._read_home(args.home)
    folder = Path(args.package) if args.package else home.plans / args.plan_id
    if not folder.is_dir():
        if home is None:
            raise common.UsageError(f"no package folder {folder}")
        drawn = sorted(p.name for p in home.plans.glob("*") if p.is_dir()) if home.plans.is_dir() else []
        nearest = difflib.get_close_matches(args.plan_id, drawn, n=3, cutoff=0.0)
        hint = f"nearest: {', '.join(nearest)}" if nearest else "no plan has been drawn in this home"
        raise common.UsageError(f"no plan {args.plan_id} in {home.plans} ({hint})")
    problems = amendments.verify(folder)
    verifier = common._verifier(args)
    if verifier is None:
        problems.append(f"signed commitment not checked: set {signing.VERIFY_KEY_ENV} or pass --public-key")
    else:
        problems += package.commitment_problems(folder, verifier)
    if home is not None and home.warehouse.exists():  # the home's own record of the commitment made at the draw
        with duckdb.connect(str(home.warehouse), read_only=True) as conn:
            if table_exists(conn, "sampling", "commitments"):
                rows = run_sql(conn, "intermediate/sampling.commitments.sql#of_plan", {"plan_id": folder.name})
                problems += drawing.commitment_mismatch(folder, rows[0] if rows else None)
    # A wrong seed mismatches every task: the first lines say what is wrong, the count how much.
    for p in problems[: common.MAX_MISMATCH_LINES]:
        common._say(f"MISMATCH: {p}")
    if len(problems) > common.MAX_MISMATCH_LINES:
        common._say(f"… and {len(problems) - common.MAX_MISMATCH_LINES:,} more mismatches not shown")
    if problems:
        common._say(f"{len(problems):,} problem(s)")
        return 1
    staffed = amendments.staffing(folder)
    common._say(
        f"{args.plan_id}: selection and assignments match the package and its signed seed commitment"
        + (
            f"; {len(staffed.exclusions)} recorded exclusions and {len(staffed.amendments)} amendments recomputed"
            if staffed.exclusions
            else ""
        )
    )
    return 0
