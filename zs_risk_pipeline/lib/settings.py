"""Where a deployment keeps its data, and the secrets it needs (环境与路径)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

HOME_ENV = "ZS_RISK_HOME"
PII_KEY_ENV = "ZS_RISK_PII_KEY"
DEFAULT_HOME = ".zs_risk"
# HMAC keys shorter than this are guessable by brute force over the small space of ID numbers.
MIN_PII_KEY_LENGTH = 16
DEMO_KEY_FILE = "demo_pii_key"


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
    def models(self) -> Path:
        return self.home / "models"

    @property
    def exports(self) -> Path:
        # Files that leave the restricted area (e.g. task lists for the branches): never tiers or scores.
        return self.home / "exports"

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

    def ensure(self) -> Paths:
        for p in (self.home, self.landing, self.mart, self.models, self.dagster_home):
            p.mkdir(parents=True, exist_ok=True)
        return self


def home(env: dict[str, str] | None = None) -> Paths:
    env = os.environ if env is None else env
    return Paths(Path(env.get(HOME_ENV) or DEFAULT_HOME).resolve())


def pii_key(value: str | None = None) -> bytes:
    """The key for hashing personal IDs; refuses to run without a real one."""
    key = os.environ.get(PII_KEY_ENV) if value is None else value
    if not key:
        raise MissingSecretError(
            f"{PII_KEY_ENV} is not set: personal ID numbers are hashed at ingest with this key and the "
            "pipeline refuses to run without it. Set it from your secret store (make demo generates a "
            "throw-away key for the synthetic city)."
        )
    if len(key) < MIN_PII_KEY_LENGTH:
        raise MissingSecretError(f"{PII_KEY_ENV} must be at least {MIN_PII_KEY_LENGTH} characters long.")
    return key.encode("utf-8")
