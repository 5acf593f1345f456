"""Shared fixtures: a temporary ZS_RISK_HOME with a test PII key, the pinned test policy, and helpers to drop
landing files and to vary a policy file.

The whole session reads the policy folder zs_risk_pipeline_tests/fixtures/policy/ (ZS_RISK_CONFIG, set here before
any test module is imported): a copy of the shipped config/ pinned for the tests, whose numbers the tests assert.
An operator's edit of config/ therefore changes no test outcome; test_shipped_policy.py validates config/ itself.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pytest

from zs_risk_pipeline.lib.core import resources, settings
from zs_risk_pipeline.lib.evidence import signing
from zs_risk_pipeline.lib.ingest import staging

if TYPE_CHECKING:
    import dagster as dg

POLICY_FIXTURE = Path(__file__).resolve().parent / "fixtures" / "policy"
os.environ[resources.CONFIG_ENV] = str(POLICY_FIXTURE)

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "true")

TEST_KEY = "test-key-not-a-secret-0123456789"
# A fixed Ed25519 key for tests (not a secret): publishing and drawing sign with it, verify checks its public half.
TEST_SIGNING_KEY = "7e57" * 16
os.environ.setdefault(signing.SIGNING_KEY_ENV, TEST_SIGNING_KEY)

# The partitions are read from the home's landing when the definitions are first imported (defs/partitions.py),
# once per process: the suite's homes are temporary, so import them against an empty home, never against a home
# left in the working directory (a demo's would cut the months off at its last delivery).
with pytest.MonkeyPatch.context() as _mp, tempfile.TemporaryDirectory() as _empty:
    _mp.setenv(settings.HOME_ENV, _empty)
    import zs_risk_pipeline.defs.partitions  # noqa: F401


def signed_home_env(mp: pytest.MonkeyPatch, home: Path) -> None:
    """The environment of a test home built through the CLI: its PII key, its Dagster instance, the test signing
    key, and no separate public key (tests that check with the public key only set it themselves)."""
    mp.setenv(settings.HOME_ENV, str(home))
    mp.setenv(settings.PII_KEY_ENV, TEST_KEY)
    mp.setenv("DAGSTER_HOME", str(home / "dagster_home"))
    mp.setenv(signing.SIGNING_KEY_ENV, TEST_SIGNING_KEY)
    mp.delenv(signing.VERIFY_KEY_ENV, raising=False)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> settings.Paths:
    monkeypatch.setenv(settings.HOME_ENV, str(tmp_path / "home"))
    monkeypatch.setenv(settings.PII_KEY_ENV, TEST_KEY)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home" / "dagster_home"))
    return settings.home().ensure()


def policy_file(name: str) -> Path:
    """A file of the test policy folder (the pinned copy of the shipped config/)."""
    return POLICY_FIXTURE / name


def yaml_variant(tmp_path: Path, source: Path, edit: Callable[[dict], object]) -> Path:
    """A copy of an operator config file with one edit applied, to test how loading it fails."""
    import yaml

    doc = yaml.safe_load(source.read_text(encoding="utf-8"))
    edit(doc)
    path = tmp_path / source.name
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return path


def policy_variant(tmp_path: Path, name: str, edit: Callable[[dict], object]) -> Path:
    """A copy of the whole test policy folder with one file edited (for a run under an operator's edit)."""
    folder = tmp_path / "policy"
    shutil.copytree(POLICY_FIXTURE, folder)
    yaml_variant(folder, POLICY_FIXTURE / name, edit)
    return folder


def drop(
    home: settings.Paths, source: str, month: str, name: str, content: str | bytes, encoding: str = "utf-8"
) -> Path:
    """Deliver one landing file as a source system would."""
    folder = home.landing / source / month
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
    return path


@pytest.fixture
def warehouse(home: settings.Paths) -> Iterator[duckdb.DuckDBPyConnection]:
    conn = duckdb.connect(str(home.warehouse))
    staging.prepare(conn, TEST_KEY.encode())
    yield conn
    conn.close()


def ingest_month(conn: duckdb.DuckDBPyConnection, home: settings.Paths, source: str, month: str):
    files = staging.land(conn, source, month, home.landing)
    return files, staging.stage(conn, source, month)


def materialize_on_copy(
    conn: duckdb.DuckDBPyConnection, path: Path, folder: Path, nodes: list, partition_key: str
) -> tuple[dg.ExecuteInProcessResult, Path]:
    """Materialise assets and checks (with the warehouse and policy resources) on a copy of a test warehouse
    (`conn` open on `path`): the resource opens its own connection. Returns the result and the copy."""
    import dagster as dg
    from dagster_duckdb import DuckDBResource

    from zs_risk_pipeline.defs.resources import ZsRiskPolicy

    conn.execute("CHECKPOINT")
    copy = folder / "warehouse.duckdb"
    shutil.copyfile(path, copy)
    result = dg.materialize(
        nodes,
        partition_key=partition_key,
        resources={"warehouse": DuckDBResource(database=str(copy)), "policy": ZsRiskPolicy()},
        instance=dg.DagsterInstance.ephemeral(),
    )
    return result, copy
