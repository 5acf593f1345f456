"""Where a deployment keeps its data, and the secrets it needs (环境与路径)."""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

HOME_ENV = "ZS_RISK_HOME"
PII_KEY_ENV = "ZS_RISK_PII_KEY"
DEFAULT_HOME = ".zs_risk"
# HMAC keys shorter than this are guessable by brute force over the small space of ID numbers.
MIN_PII_KEY_LENGTH = 16
DEMO_KEY_FILE = "demo_pii_key"
# Owner-only modes of the restricted parts of a home (the mart and the exports keep the process's defaults).
OWNER_DIR_MODE = 0o700
OWNER_FILE_MODE = 0o600


class MissingSecretError(RuntimeError):
    """A secret the pipeline needs is not in the environment."""


@dataclass(frozen=True)
class Paths:
    """The layout of one ZS_RISK_HOME."""

    home: Path

    @property
    def landing(self) -> Path:
        return self.home / "landing"

    @property
    def warehouse(self) -> Path:
        return self.home / "warehouse.duckdb"

    @property
    def mart(self) -> Path:
        return self.home / "mart"

    @property
    def plans(self) -> Path:
        # The plans' verification packages (frame, strata = tiers, seed): restricted, outside the analysts' mart.
        return self.home / "plans"

    @property
    def models(self) -> Path:
        return self.home / "models"

    @property
    def exports(self) -> Path:
        # Files that leave the restricted area (e.g. task lists for the branches): never tiers or scores.
        return self.home / "exports"

    @property
    def reports(self) -> Path:
        # Internal reports for the bureau's staff (the allocation proposals and their plots): they hold tiers.
        return self.home / "reports"

    @property
    def policy(self) -> Path:
        # The home's own policy folder, when it has one (the demo's: the proposals it adopts are written there).
        return self.home / "config"

    @property
    def dagster_home(self) -> Path:
        return self.home / "dagster_home"

    @property
    def ground_truth(self) -> Path:
        # Outside landing/: the pipeline must never read the generator's hidden truth.
        return self.home / "ground_truth"

    @property
    def demo_key_file(self) -> Path:
        return self.home / DEMO_KEY_FILE

    @property
    def logs(self) -> Path:
        # Dagster's full log of the runs zs-risk executes in-process: its messages may quote delivered data.
        return self.home / "logs"

    def restricted(self) -> list[Path]:
        """The parts of the home only the pipeline's OS user may read (最小权限): the warehouse with its WAL and
        spill folder, the plans' packages, the model registry, the run history, the evidence of the publish log,
        the synthetic city's ground truth, the run logs, the internal reports and the demo's key files. The mart
        (analysts) and the exports (task lists, one-public results) are not among them."""
        fixed = [
            *warehouse_files(self.warehouse),
            self.plans,
            self.models,
            self.dagster_home,
            self.home / "evidence",
            self.logs,
            self.reports,
            self.ground_truth,
            self.demo_key_file,
        ]
        keys = sorted(self.home.glob("demo_*key*")) if self.home.is_dir() else []
        return [*fixed, *(k for k in keys if k not in fixed)]

    def ensure(self) -> Paths:
        for p in (self.home, self.landing, self.mart, self.models, self.dagster_home):
            p.mkdir(parents=True, exist_ok=True)
        for p in (self.plans, self.reports, spill_folder(self.warehouse)):
            p.mkdir(mode=OWNER_DIR_MODE, exist_ok=True)
        self._move_packages_out_of_the_mart()
        return self.restrict()

    def _move_packages_out_of_the_mart(self) -> None:
        """Packages of a home written before plans/ existed (mart/plans/) move to plans/, unchanged: a published
        plan must be found where a rerun looks for it, or the rerun would draw it again."""
        old = self.mart / "plans"
        if not old.is_dir():
            return
        for package in sorted(old.iterdir()):
            target = self.plans / package.name
            if target.exists():
                raise RuntimeError(
                    f"plan package {package.name} is both in {old} and in {self.plans}: keep one (the published one)"
                )
            package.rename(target)
        old.rmdir()

    def restrict(self) -> Paths:
        """Make (or repair) the restricted parts owner-only: folders 0700, files 0600, whatever created them."""
        owner_only(self.restricted())
        return self


def warehouse_files(database: Path) -> tuple[Path, Path, Path]:
    """A DuckDB file with what DuckDB keeps beside it: its write-ahead log and its spill folder."""
    return database, database.with_name(database.name + ".wal"), spill_folder(database)


def spill_folder(database: Path) -> Path:
    # DuckDB's default temp_directory; created in advance (0700) it is kept and reused, so spilled rows stay private.
    return database.with_name(database.name + ".tmp")


def owner_only(paths: Iterable[Path]) -> None:
    """chmod folders (and every folder below them) to 0700 and files to 0600; missing paths and symlinks are
    left alone."""
    for top in paths:
        try:
            st = top.lstat()
        except FileNotFoundError:
            continue
        if stat.S_ISDIR(st.st_mode):
            _chmod(top, st, OWNER_DIR_MODE)
            for folder, dirs, files in os.walk(top):
                for name in dirs + files:
                    p = Path(folder) / name
                    try:
                        s = p.lstat()
                    except FileNotFoundError:  # removed while we walk (a run in progress)
                        continue
                    if stat.S_ISDIR(s.st_mode):
                        _chmod(p, s, OWNER_DIR_MODE)
                    elif stat.S_ISREG(s.st_mode):
                        _chmod(p, s, OWNER_FILE_MODE)
        elif stat.S_ISREG(st.st_mode):
            _chmod(top, st, OWNER_FILE_MODE)


def _chmod(path: Path, st: os.stat_result, mode: int) -> None:
    if stat.S_IMODE(st.st_mode) != mode:
        with contextlib.suppress(FileNotFoundError):  # removed meanwhile
            os.chmod(path, mode)


def home(env: dict[str, str] | None = None) -> Paths:
    env = os.environ if env is None else env
    return Paths(Path(env.get(HOME_ENV) or DEFAULT_HOME).resolve())


def pii_key(value: str | None = None) -> bytes:
    """The key for hashing personal IDs; refuses to run without a real one."""
    key = os.environ.get(PII_KEY_ENV) if value is None else value
    if not key:
        raise MissingSecretError(
            f"{PII_KEY_ENV} is not set: personal ID numbers are hashed at ingest with this key and the "
            "pipeline refuses to run without it. Set it from your secret store (zs-risk demo generates a "
            "throw-away key for the synthetic city)."
        )
    if len(key) < MIN_PII_KEY_LENGTH:
        raise MissingSecretError(f"{PII_KEY_ENV} must be at least {MIN_PII_KEY_LENGTH} characters long.")
    return key.encode("utf-8")
