"""What every command shares (命令行公共部分): the home, months, messages and usage errors."""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from zs_risk_pipeline.lib.core import settings
from zs_risk_pipeline.lib.core.month import Month

if TYPE_CHECKING:  # imported lazily at run time: `zs-risk --help` should not wait for Dagster
    import dagster as dg
    import duckdb


# The commands that read the operator policy: they refuse at once when its folder lacks a file.
POLICY_COMMANDS = ("synth", "run", "backfill", "demo", "ui", "summary", "adopt-ratios")


# The commands that need an existing home (verify-draw too, unless given its package folder): refused before their
# modules are even imported.
HOME_COMMANDS = ("run", "backfill", "ui", "verify", "repoint", "summary", "adopt-ratios")

MAX_MISMATCH_LINES = 20


DEMO = {
    "enterprises": 100_000,
    "months": 24,
    "start": "2023-01",
    "seed": 20240601,
    "defect_rate": 0.002,
    "late_plan": "MR-FOOD",  # whose results of one month are delivered late in the demo
    # zs-risk's plans are carried out from this month on (closed loop); the city's own plans cover the months
    # before (the cold start: the first tiers and the first labels).
    "go_live": "2023-07",
}


def _say(msg: str) -> None:
    print(msg, flush=True)


def _months(first: str, last: str) -> list[str]:
    start, end = Month.of(first), Month.of(last)
    if start > end:
        raise SystemExit(f"--from {first} lies after --to {last}")
    return [start.shift(i).label for i in range(end.months_since(start) + 1)]


def _month_arg(value: str) -> str:
    if len(value) != 7 or value[4] != "-" or not (value[:4] + value[5:]).isdigit() or not 1 <= int(value[5:]) <= 12:
        raise argparse.ArgumentTypeError(f"{value!r} is not a month YYYY-MM")
    return value


class UsageError(RuntimeError):
    """What the user asked for cannot be done as asked; said in one line, without a traceback."""


def _existing(paths: settings.Paths) -> settings.Paths:
    # A mistyped --home or ZS_RISK_HOME must not become a new, empty home: only demo and synth create one.
    if not paths.home.is_dir():
        raise UsageError(
            f"home {paths.home} does not exist (--home / ${settings.HOME_ENV}): check the path; "
            "`zs-risk demo` or `zs-risk synth` creates a new one"
        )
    return paths


def check_home(args: argparse.Namespace) -> None:
    """Refuse a missing home at once, before the command's modules (Dagster, LightGBM) load."""
    if args.command in HOME_COMMANDS or (args.command == "verify-draw" and not args.package):
        _existing(settings.home({settings.HOME_ENV: args.home}) if args.home else settings.home())


def use_home_policy(args: argparse.Namespace) -> None:
    """A home may carry its own policy folder, <home>/config (the demo's does, and adopts the allocation's proposals
    into it): every command on that home uses it unless ZS_RISK_CONFIG names another folder."""
    from zs_risk_pipeline.lib.core import resources

    if os.environ.get(resources.CONFIG_ENV):
        return
    own = (settings.home({settings.HOME_ENV: args.home}) if args.home else settings.home()).policy
    if own.is_dir():
        os.environ[resources.CONFIG_ENV] = str(own)


def _read_home(home: str | None) -> settings.Paths:
    """The home as it is, for commands that only read it (verify): nothing created, moved or chmod-ed."""
    if home:
        os.environ[settings.HOME_ENV] = str(Path(home).resolve())
    return _existing(settings.home())


def _use_home(home: str | None, create: bool = False) -> settings.Paths:
    """Point this process (and the Dagster code it loads) at one ZS_RISK_HOME; only `create` makes a new one."""
    from zs_risk_pipeline.lib.core import resources

    if home:
        os.environ[settings.HOME_ENV] = str(Path(home).resolve())
    paths = (settings.home() if create else _existing(settings.home())).ensure()
    os.environ[settings.HOME_ENV] = str(paths.home)
    os.environ["DAGSTER_HOME"] = str(paths.dagster_home)
    instance_yaml = paths.dagster_home / "dagster.yaml"
    if not instance_yaml.exists():
        shutil.copyfile(resources.instance_template(), instance_yaml)
    return paths


def _check_months(months: list[str]) -> None:
    """Refuse months the monthly partitions do not offer, naming the ones they do (read from the partitions
    definition of the home just chosen, so it follows however that definition ends)."""
    from zs_risk_pipeline.defs.partitions import monthly

    valid = [key[:7] for key in monthly.get_partition_keys()]
    outside = [m for m in months if m not in valid]
    if not outside:
        return
    which = ", ".join(outside[:3]) + (f" and {len(outside) - 3} more months" if len(outside) > 3 else "")
    offered = f"{valid[0]} … {valid[-1]}" if valid else "none"
    raise UsageError(f"no monthly partition for {which}: the valid months are {offered}")


def _ui_hint(paths: settings.Paths) -> str:
    """How to open the UI on this home, as zs-risk was installed: `make ui` only in a source checkout with its
    Makefile; otherwise `zs-risk ui`, with the demo's throw-away keys when this is a demo home."""
    from zs_risk_pipeline.lib.core import resources
    from zs_risk_pipeline.lib.evidence import signing

    root = resources.source_checkout()
    if root is not None and (root / "Makefile").is_file():
        return "make ui" if paths.home == root / settings.DEFAULT_HOME else f"{settings.HOME_ENV}={paths.home} make ui"
    keys = ""
    if paths.demo_key_file.is_file() and demo_signing_key_file(paths).is_file():
        keys = (
            f"{settings.PII_KEY_ENV}=$(cat {paths.demo_key_file}) "
            f"{signing.SIGNING_KEY_ENV}=$(cat {demo_signing_key_file(paths)}) "
        )
    return f"{keys}zs-risk --home {paths.home} ui"


class NoLandingData(RuntimeError):
    """The home has no landing files at all: nothing a run could build."""


def _require_landing(paths: settings.Paths) -> None:
    if not any(p.is_file() for p in paths.landing.glob("*/*/*")):
        raise NoLandingData(
            f"no landing data in {paths.landing}: deliver files to landing/<source>/<YYYY-MM>/ "
            "(or run `zs-risk demo` for the synthetic city)"
        )


def _md_int(event: dg.DagsterEvent, key: str) -> int:
    value = event.materialization.metadata.get(key)
    return int(value.value) if value is not None else 0


def demo_key(paths: settings.Paths) -> str:
    """A throw-away key for the synthetic city only, kept in ZS_RISK_HOME, never in the repository."""
    if not paths.demo_key_file.exists():
        paths.demo_key_file.write_text(secrets.token_hex(32), encoding="ascii")
        paths.demo_key_file.chmod(0o600)
    return paths.demo_key_file.read_text(encoding="ascii").strip()


def demo_signing_key_file(paths: settings.Paths) -> Path:
    """Where the demo keeps its throw-away signing key: beside the home, never inside it (whoever can write the
    home must not find the key that vouches for it)."""
    return paths.home.parent / f"{paths.home.name}.keys" / "demo_signing_key"


def demo_signing_key(paths: settings.Paths) -> str:
    from zs_risk_pipeline.lib.evidence import signing

    path = demo_signing_key_file(paths)
    if not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        private, _ = signing.new_key()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(private)
    return path.read_text(encoding="ascii").strip()


def _has_publish_log(conn: duckdb.DuckDBPyConnection) -> bool:
    from zs_risk_pipeline.lib.core.sql import table_exists

    return table_exists(conn, "audit", "publish_log")


def _verifier(args: argparse.Namespace):  # -> evidence.Verifier | None
    from zs_risk_pipeline.lib.evidence import signing

    if getattr(args, "public_key", None):
        return signing.Verifier.from_hex(args.public_key)
    return signing.verifier_from_env()
