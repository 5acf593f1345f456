"""Least access on disk (最小权限): after a run, the restricted parts of the home are owner-only, the mart and the
exports stay readable, no plan package lies in the mart, and an analyst's locked session reaches the mart's views
and nothing else."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from zs_risk_pipeline import cli
from zs_risk_pipeline.defs.resources import Warehouse
from zs_risk_pipeline.lib.core import settings
from zs_risk_pipeline.lib.core.sql import SQL_DIR
from zs_risk_pipeline.lib.publish import tables
from zs_risk_pipeline_tests.conftest import TEST_KEY

pytestmark = pytest.mark.e2e  # whole months through Dagster (make test runs them; -m "not e2e" skips)

SESSION_SQL = SQL_DIR / "marts" / "analyst_session.sql"


def _mode(p: Path) -> int:
    return stat.S_IMODE(p.lstat().st_mode)


def _tree(top: Path) -> list[Path]:
    return [top, *sorted(top.rglob("*"))] if top.is_dir() else [top]


@pytest.fixture(scope="module")
def run_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[settings.Paths]:
    """A tiny synthetic city, one month through the Dagster job as `zs-risk run` does; the demo's key file lies
    in the home world-readable beforehand, as an older release could have left it."""
    root = tmp_path_factory.mktemp("least_access")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(settings.HOME_ENV, str(root / "home"))
        mp.setenv(settings.PII_KEY_ENV, TEST_KEY)
        mp.setenv("DAGSTER_HOME", str(root / "home" / "dagster_home"))
        paths = settings.home()
        paths.home.mkdir(parents=True)
        paths.demo_key_file.write_text("0" * 64, encoding="ascii")
        paths.demo_key_file.chmod(0o644)
        assert cli.main(["synth", "--enterprises", "800", "--months", "1", "--start", "2023-01", "--seed", "5"]) == 0
        assert cli.main(["run", "--month", "2023-01"]) == 0
        yield paths


def test_the_restricted_parts_are_owner_only_after_a_run(run_home: settings.Paths) -> None:
    paths = run_home
    packages = sorted(p for p in paths.plans.iterdir() if p.is_dir() and not p.name.startswith("."))
    assert packages and (packages[0] / "plan.json").is_file() and (packages[0] / "frame.csv").is_file()
    for must in (paths.warehouse, paths.models, paths.dagster_home, paths.ground_truth, paths.demo_key_file):
        assert must.exists(), must
    assert any(paths.models.rglob("*.*")) and any(paths.ground_truth.iterdir())
    loose = [
        f"{p.relative_to(paths.home)} {oct(_mode(p))}"
        for top in paths.restricted()
        if top.exists()
        for p in _tree(top)
        if not p.is_symlink() and _mode(p) != (settings.OWNER_DIR_MODE if p.is_dir() else settings.OWNER_FILE_MODE)
    ]
    assert loose == []
    assert _mode(settings.spill_folder(paths.warehouse)) == 0o700  # DuckDB spills into it, never a 0755 folder


def test_no_plan_package_in_the_mart_and_the_mart_and_exports_stay_readable(run_home: settings.Paths) -> None:
    paths = run_home
    assert not (paths.mart / "plans").exists()
    assert (paths.mart / tables.MART_FILE).is_file()
    umask = os.umask(0)
    os.umask(umask)
    readable = 0o444 & ~umask  # what the process's defaults give: the mart and the exports keep them
    shared = [p for top in (paths.mart, paths.exports) for p in _tree(top) if not p.is_symlink()]
    assert any(p.suffix == ".parquet" for p in shared) and any(p.suffix == ".csv" for p in shared)
    assert [p for p in shared if _mode(p) & readable != readable] == []


def test_ensure_repairs_loosened_modes_and_moves_packages_out_of_an_old_mart(tmp_path: Path) -> None:
    paths = settings.Paths(tmp_path / "home")
    old = paths.mart / "plans" / "MR-GENERAL-2024-04"  # where packages lay before plans/ existed
    old.mkdir(parents=True)
    (old / "plan.json").write_text(json.dumps({"plan_id": old.name}), encoding="utf-8")
    (paths.home / "warehouse.duckdb").write_bytes(b"not really a database")
    (paths.home / "warehouse.duckdb.wal").write_bytes(b"")
    (paths.home / "demo_signing_key").write_text("k", encoding="ascii")
    for p in (paths.home / "warehouse.duckdb", paths.home / "warehouse.duckdb.wal", paths.home / "demo_signing_key"):
        p.chmod(0o644)
    paths.ensure()
    assert not (paths.mart / "plans").exists()
    moved = paths.plans / "MR-GENERAL-2024-04" / "plan.json"
    assert json.loads(moved.read_text(encoding="utf-8")) == {"plan_id": "MR-GENERAL-2024-04"}
    assert [_mode(p) for p in (paths.plans, moved.parent)] == [0o700, 0o700]
    assert [_mode(p) for p in (moved, paths.warehouse, paths.home / "warehouse.duckdb.wal")] == [0o600] * 3
    assert _mode(paths.home / "demo_signing_key") == 0o600
    assert [_mode(p) for p in (paths.models, paths.dagster_home)] == [0o700, 0o700]
    # later writes under the default umask are repaired by the next run's ensure()
    (moved.parent / "amendments.csv").write_text("uscc\n", encoding="utf-8")
    (moved.parent / "amendments.csv").chmod(0o644)
    paths.plans.chmod(0o755)
    paths.ensure()
    assert (_mode(paths.plans), _mode(moved.parent / "amendments.csv")) == (0o700, 0o600)


def test_a_package_in_both_places_is_refused(tmp_path: Path) -> None:
    paths = settings.Paths(tmp_path / "home")
    for top in (paths.mart / "plans", paths.plans):
        (top / "MR-GENERAL-2024-04").mkdir(parents=True)
    with pytest.raises(RuntimeError, match="MR-GENERAL-2024-04 is both in"):
        paths.ensure()


def test_the_pipeline_warehouse_is_owner_only_from_its_first_connection(tmp_path: Path) -> None:
    db = tmp_path / "warehouse.duckdb"
    with Warehouse(database=str(db)).get_connection() as conn:
        conn.execute("CREATE TABLE t AS SELECT 1 AS x")
        assert _mode(db) == 0o600 and _mode(settings.spill_folder(db)) == 0o700
    assert _mode(db) == 0o600
    assert not db.with_name(db.name + ".wal").exists() or _mode(db.with_name(db.name + ".wal")) == 0o600


_ANALYST = r"""
import json, sys
import dagster as dg
import duckdb

con = duckdb.connect("mart.duckdb", read_only=True)
con.execute(open(sys.argv[1], encoding="utf-8").read())
out = {"views": {}, "refused": {}}
for (name,) in con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal ORDER BY 1").fetchall():
    out["views"][name] = con.execute(f'SELECT count(*) FROM "{name}"').fetchall()[0][0]
for label, sql in json.loads(sys.argv[2]).items():
    try:
        con.execute(sql).fetchall()
        out["refused"][label] = None
    except duckdb.Error as e:
        out["refused"][label] = type(e).__name__
print(json.dumps(out))
"""


def test_an_analyst_session_reads_the_views_and_nothing_else(run_home: settings.Paths) -> None:
    paths = run_home
    package = sorted(p for p in paths.plans.iterdir() if p.is_dir() and not p.name.startswith("."))[0]
    around = paths.mart / "data" / ".." / ".." / "plans" / package.name / "frame.csv"  # a path through the mart
    attempts = {
        "plan package": f"SELECT * FROM read_csv('{package / 'frame.csv'}')",
        "plan package via the mart": f"SELECT * FROM read_csv('{around}')",
        "warehouse": f"ATTACH '{paths.warehouse}' AS w (READ_ONLY)",
        "landing": f"SELECT count(*) FROM glob('{paths.landing}/*/*/*')",
        "unlock": "SET enable_external_access = true",
        "widen": f"SET allowed_directories = ['{paths.home}/']",
    }
    # In its own process, as an analyst opens it: the settings hold for the whole database instance.
    done = subprocess.run(
        [sys.executable, "-c", _ANALYST, str(SESSION_SQL), json.dumps(attempts)],
        cwd=paths.mart,
        capture_output=True,
        text=True,
        check=True,
    )
    seen = json.loads(done.stdout)
    assert {"enterprise_features", "enterprise_tiers", "enterprise_features_versions"} <= set(seen["views"])
    assert seen["views"]["enterprise_features"] > 0
    assert seen["refused"] == {
        "plan package": "PermissionException",
        "plan package via the mart": "PermissionException",
        "warehouse": "PermissionException",
        "landing": "PermissionException",
        "unlock": "InvalidInputException",
        "widen": "InvalidInputException",
    }
    # Without the lock the same read-only file reaches the package: the operating system's modes are what guard it.
    with duckdb.connect(":memory:") as open_session:
        assert open_session.execute(f"SELECT count(*) FROM read_csv('{package / 'frame.csv'}')").fetchall()[0][0] > 0


def test_within_a_run_steps_share_one_open_warehouse_and_the_run_leaves_it_checkpointed(tmp_path: Path) -> None:
    db = tmp_path / "warehouse.duckdb"
    wal = db.with_name(db.name + ".wal")
    with dg.build_resources({"warehouse": Warehouse(database=str(db))}) as resources:
        warehouse = resources.warehouse
        with warehouse.get_connection() as step:
            step.execute("CREATE TABLE t AS SELECT 1 AS x")
            step.execute("CREATE TEMP TABLE scratch AS SELECT 2 AS y")
            assert _mode(db) == 0o600
        with warehouse.get_connection() as step:
            assert step.execute("SELECT x FROM t").fetchall() == [(1,)]  # the earlier step's committed write
            with pytest.raises(duckdb.CatalogException):  # its temporary objects ended with it
                step.execute("SELECT * FROM scratch")
            step.execute("BEGIN; INSERT INTO t VALUES (3)")  # a step that ends inside a transaction
        with warehouse.get_connection() as step:
            assert step.execute("SELECT count(*) FROM t").fetchall() == [(1,)]  # rolled back
        # the file stays open for the run: another process could not open it now
        assert warehouse._db is not None
    assert not wal.exists()  # the run's end checkpointed the file
    with duckdb.connect(str(db), read_only=True) as reader:
        assert reader.execute("SELECT x FROM t").fetchall() == [(1,)]
    assert _mode(db) == 0o600
