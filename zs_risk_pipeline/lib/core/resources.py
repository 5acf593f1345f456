"""Where the SQL files and the policy folder are (SQL 与政策配置的位置), resolved in this one place.

- A source checkout uses the repository's own `sql/` and `config/` (an editable install included).
- An installed package uses the copies shipped inside it (`zs_risk_pipeline/sql`, `zs_risk_pipeline/config`,
  mapped there at build time by pyproject.toml).
- Operators point `ZS_RISK_CONFIG` at their own policy folder; without it the shipped policy applies. The folder
  is resolved when asked (`config_dir()`), and lib/policy/folder.py validates it as a whole (`current()`).

Plain Python, no Dagster.
"""

from __future__ import annotations

import importlib.resources
import os
from collections.abc import Mapping
from pathlib import Path

CONFIG_ENV = "ZS_RISK_CONFIG"
# Every file of a policy folder some reader needs. dagster.yaml (the Dagster instance template) is optional there:
# it is not policy, and the shipped one serves when an operator's folder has none.
POLICY_FILES = (
    "allocation.yaml",
    "deliveries.yaml",
    "features.yaml",
    "hotspots.yaml",
    "model.yaml",
    "monitoring.yaml",
    "publicity.yaml",
    "sampling_plans.yaml",
    "scorecard.yaml",
    "tier_policy.yaml",
    "warning_rules.yaml",
    "uscc_allowlist.csv",
)
INSTANCE_TEMPLATE = "dagster.yaml"
_PACKAGE = "zs_risk_pipeline"
_PACKAGE_DIR = Path(__file__).resolve().parents[2]


class ConfigError(RuntimeError):
    """The policy folder in use is missing or lacks a file."""


def source_checkout() -> Path | None:
    """The repository root when this code runs from a source checkout, None when it runs installed."""
    root = _PACKAGE_DIR.parent
    if (root / "pyproject.toml").is_file() and (root / "sql").is_dir() and (root / "config").is_dir():
        return root
    return None


def _shipped(name: str) -> Path:
    root = source_checkout()
    if root is not None:
        return root / name
    folder = importlib.resources.files(_PACKAGE) / name
    # DuckDB and the YAML readers need real files: a package imported from a zip archive is not supported.
    if not isinstance(folder, Path) or not folder.is_dir():
        raise ConfigError(f"the installed {_PACKAGE} has no {name}/ folder: reinstall zs-risk")
    return folder


def sql_dir() -> Path:
    return _shipped("sql")


def shipped_config_dir() -> Path:
    """The policy folder that ships with the code (the default)."""
    return _shipped("config")


def config_dir(env: Mapping[str, str] | None = None) -> Path:
    """The policy folder in use: $ZS_RISK_CONFIG, or the shipped one."""
    env = os.environ if env is None else env
    chosen = env.get(CONFIG_ENV)
    return Path(chosen).expanduser().resolve() if chosen else shipped_config_dir()


def config_file(name: str, env: Mapping[str, str] | None = None) -> Path:
    """One file of the policy folder in use (it may not exist: `check_config` says so in one line)."""
    return config_dir(env) / name


def instance_template() -> Path:
    """The Dagster instance settings a new home starts from: the policy folder's own, or the shipped one."""
    own = config_file(INSTANCE_TEMPLATE)
    return own if own.is_file() else shipped_config_dir() / INSTANCE_TEMPLATE


def check_config(env: Mapping[str, str] | None = None) -> Path:
    """The policy folder in use, after checking it has every policy file; ConfigError names what is missing."""
    env = os.environ if env is None else env
    folder = config_dir(env)
    where = f"{CONFIG_ENV}={folder}" if env.get(CONFIG_ENV) else str(folder)
    if not folder.is_dir():
        raise ConfigError(f"policy folder {where} does not exist")
    missing = [name for name in POLICY_FILES if not (folder / name).is_file()]
    if missing:
        raise ConfigError(f"policy folder {where} lacks {', '.join(missing)}")
    return folder
