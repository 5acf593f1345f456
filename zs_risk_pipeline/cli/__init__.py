"""The `zs-risk` command (命令行): generate the synthetic city, run months through Dagster, open the UI."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable

from zs_risk_pipeline.cli import common
from zs_risk_pipeline.lib.core import settings


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="zs-risk", description=__doc__)
    p.add_argument("--home", help=f"deployment folder (default ${settings.HOME_ENV} or ./{settings.DEFAULT_HOME})")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("synth", help="write the synthetic city's landing files")
    s.add_argument("--enterprises", type=int, default=common.DEMO["enterprises"], help="registered market entities")
    s.add_argument("--months", type=int, default=common.DEMO["months"])
    s.add_argument("--start", type=common._month_arg, default=common.DEMO["start"])
    s.add_argument("--seed", type=int, default=common.DEMO["seed"])
    s.add_argument("--landing", help="landing folder (default $ZS_RISK_HOME/landing)")
    s.add_argument("--truth", help="ground-truth folder, outside landing (default $ZS_RISK_HOME/ground_truth)")
    s.add_argument("--encoding", choices=["utf-8", "gb18030"], default="utf-8", help="encoding of CSV files")
    s.add_argument("--chinese-headers", action="store_true", help="write the Chinese column headers")
    s.add_argument("--defect-rate", type=float, default=0.0, help="share of CSV rows with an injected defect")
    s.add_argument(
        "--go-live",
        type=common._month_arg,
        help="from this month on the configured plans are zs-risk's, carried out by the simulated inspectorate "
        "(`zs-risk carry-out`); the city draws them only before",
    )
    s.set_defaults(func="city.cmd_synth")

    r = sub.add_parser("run", help="materialise one month's chain through Dagster")
    r.add_argument("--month", type=common._month_arg, required=True)
    r.add_argument(
        "--release-missing",
        metavar="REASON",
        help="publish the month although expected sources (config/deliveries.yaml) are missing; the reason is recorded",
    )
    r.set_defaults(func="run.cmd_run")

    b = sub.add_parser("backfill", help="materialise a range of months, oldest first")
    b.add_argument("--from", dest="from_month", type=common._month_arg, required=True)
    b.add_argument("--to", dest="to_month", type=common._month_arg, required=True)
    b.add_argument("--release-missing", metavar="REASON", help="as for run, for every month of the range")
    b.set_defaults(func="run.cmd_backfill")

    d = sub.add_parser("demo", help="synthetic city + every month through everything built so far")
    d.add_argument("--enterprises", type=int, default=common.DEMO["enterprises"])
    d.add_argument("--months", type=int, default=common.DEMO["months"])
    d.set_defaults(func="city.cmd_demo")

    co = sub.add_parser(
        "carry-out", help="the synthetic city's inspectorate carries out the plans published for a month"
    )
    co.add_argument("--month", type=common._month_arg, required=True, help="the plan month M+1, after M is built")
    co.add_argument(
        "--last-month",
        type=common._month_arg,
        help="the end of the simulated window: results entered after it stay in transit",
    )
    co.set_defaults(func="city.cmd_carry_out")

    ad = sub.add_parser(
        "adopt-ratios",
        help="adopt the allocation's proposal of a month into the policy folder's sampling_plans.yaml (采纳)",
    )
    ad.add_argument("--month", type=common._month_arg, required=True, help="the tier month M of the proposal")
    ad.set_defaults(func="adopt.cmd_adopt_ratios")

    u = sub.add_parser("ui", help="the Dagster UI (dagster dev) on this home")
    u.add_argument("--host", default="127.0.0.1")
    u.add_argument("--port", type=int, default=3000)
    u.set_defaults(func="ui.cmd_ui")

    v = sub.add_parser(
        "verify", help="check the publish log, its signatures and heads, the mart and the plan packages (public key)"
    )
    v.add_argument("--head", help="a publish-log head kept outside the system: the log must contain it")
    v.add_argument("--public-key", help="the public key, 64 hex digits (default $ZS_RISK_VERIFY_KEY)")
    v.set_defaults(func="verify.cmd_verify")

    rp = sub.add_parser(
        "repoint", help="rebuild the mart's catalogue for this home after a copy, move or restore (public key)"
    )
    # Also after the subcommand (`zs-risk repoint --home DIR`); SUPPRESS keeps a --home given before it.
    rp.add_argument("--home", default=argparse.SUPPRESS, help="the home as it now lies (default as for every command)")
    rp.add_argument("--public-key", help="the public key, 64 hex digits (default $ZS_RISK_VERIFY_KEY)")
    rp.set_defaults(func="verify.cmd_repoint")

    vd = sub.add_parser("verify-draw", help="recompute a drawn plan from its verification package")
    vd.add_argument("plan_id", help="e.g. MR-GENERAL-2024-04")
    vd.add_argument("--package", help="package folder (default: $ZS_RISK_HOME/plans/PLAN_ID)")
    vd.add_argument("--public-key", help="the public key, 64 hex digits (default $ZS_RISK_VERIFY_KEY)")
    vd.set_defaults(func="verify.cmd_verify_draw")

    m = sub.add_parser("summary", help="print what the warehouse holds")
    m.set_defaults(func="report.cmd_summary")
    return p


def _command(name: str) -> Callable[[argparse.Namespace], int]:
    """The command's function, its module imported only now: the commands' modules bring Dagster, LightGBM and
    the synthetic city, and a usage error, `--help` or a mistyped home should not wait for them."""
    module, func = name.split(".")
    return getattr(importlib.import_module(f"zs_risk_pipeline.cli.{module}"), func)


def main(argv: list[str] | None = None) -> int:
    from zs_risk_pipeline.lib.core import resources
    from zs_risk_pipeline.lib.policy import base, folder

    args = build_parser().parse_args(argv)
    try:
        common.use_home_policy(args)
        if args.command in common.POLICY_COMMANDS:
            # Absolute, so the UI's processes (started in another folder) read the same policy folder.
            policy_folder = resources.check_config()
            if os.environ.get(resources.CONFIG_ENV):
                os.environ[resources.CONFIG_ENV] = str(policy_folder)
            folder.load_policy_folder(policy_folder)  # the whole folder valid before anything is written
        common.check_home(args)
        return _command(args.func)(args)
    except settings.MissingSecretError as e:
        print(f"zs-risk: {e}", file=sys.stderr)
        return 2
    except common.NoLandingData as e:
        print(f"zs-risk: {e}", file=sys.stderr)
        return 1
    except (common.UsageError, resources.ConfigError) as e:
        print(f"zs-risk: {e}", file=sys.stderr)
        return 2
    except base.PolicyError as e:
        print(f"zs-risk: policy folder {resources.config_dir()}: {e}", file=sys.stderr)
        return 2
