"""Crashes at any instant of a publish or a draw are recovered by the next run, without a manual step (断点恢复).

A child process publishes with ZS_RISK_CRASH_AT naming a point of lib/publish/wap.py: it kills itself there with
SIGKILL (no cleanup runs). The rerun in this process must publish exactly what an uninterrupted publish does,
say what it recovered, and leave a mart that verifies. The draw is interrupted between its seed commitment and
its package: the rerun draws the same plan with the committed seed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from zs_risk_pipeline.lib.core import digest, faults
from zs_risk_pipeline.lib.publish import tables, wap
from zs_risk_pipeline.lib.publish import verify as publish_verify
from zs_risk_pipeline.lib.sampling import drawing, frames, plan_policy
from zs_risk_pipeline_tests.publish.test_publish import SPEC, audit, write
from zs_risk_pipeline_tests.sampling.test_plans import M, city, conn  # noqa: F401  (the plans' tiny city fixtures)

pytestmark = pytest.mark.e2e  # whole months through Dagster (make test runs them; -m "not e2e" skips)

PUBLISH_POINTS = [p for p in faults.POINTS if p.startswith("publish:")]

CHILD = """
import sys
import duckdb
from zs_risk_pipeline.lib.publish import wap
from zs_risk_pipeline_tests.publish.test_publish import SPEC, audit, write

warehouse, mart, month, values = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
conn = duckdb.connect(warehouse)
write(conn, month, [float(v) for v in values.split(",")])
audit(conn, month)
wap.publish_month(conn, SPEC, month, wap.Path(mart))
"""


def _warehouse(path: Path) -> None:
    with duckdb.connect(str(path)) as wh:
        wh.execute("CREATE SCHEMA features")
        wh.execute("CREATE TABLE features.enterprise_monthly (uscc VARCHAR, month DATE, x DOUBLE)")
        tables.prepare(wh)


def _publish(root: Path, month: str, values: list[float]) -> None:
    """An uninterrupted publish, in this process."""
    with duckdb.connect(str(root / "warehouse.duckdb")) as wh:
        write(wh, month, values)
        audit(wh, month)
        wap.publish_month(wh, SPEC, month, root / "mart")


def _publish_killed(root: Path, month: str, values: list[float], crash_at: str) -> int:
    """A publish in a child process that kills itself at `crash_at`: its return code."""
    env = {**os.environ, faults.CRASH_ENV: crash_at}
    args = [str(root / "warehouse.duckdb"), str(root / "mart"), month, ",".join(map(str, values))]
    return subprocess.run([sys.executable, "-c", CHILD, *args], env=env, cwd=Path(__file__).parents[2]).returncode


def _mart_files(mart: Path) -> dict[str, str]:
    """Every file readers can reach, with its SHA-256 (the catalogue by what it defines, not its bytes)."""
    return {
        p.relative_to(mart).as_posix(): digest.sha256_file(p)
        for folder in ("data", "versions")
        for p in sorted((mart / folder).rglob("*"))
        if p.is_file()
    }


def _catalog(mart: Path) -> list[tuple]:
    with duckdb.connect(str(mart / tables.MART_FILE), read_only=True) as r:
        return r.execute("SELECT month, uscc, x FROM enterprise_features ORDER BY ALL").fetchall()


@pytest.mark.parametrize("restated", [False, True], ids=["first-publish", "restatement"])
@pytest.mark.parametrize("point", PUBLISH_POINTS)
def test_a_publish_killed_at_any_point_is_recovered_by_the_next_one(tmp_path: Path, point: str, restated: bool):
    reference, crashed = tmp_path / "reference", tmp_path / "crashed"
    for root in (reference, crashed):
        root.mkdir()
        _warehouse(root / "warehouse.duckdb")
        if restated:
            _publish(root, "2024-03", [1.0, 2.0])
    values = [1.0, 2.5] if restated else [1.0, 2.0]
    _publish(reference, "2024-03", values)
    assert _publish_killed(crashed, "2024-03", values, crash_at=point) == -signal.SIGKILL

    with duckdb.connect(str(crashed / "warehouse.duckdb")) as wh:
        rerun = wap.publish_month(wh, SPEC, "2024-03", crashed / "mart")  # no manual step
        assert publish_verify.verify(wh, crashed / "mart") == []
        entries = wh.execute("SELECT count(*) FROM audit.publish_log").fetchall()
    with duckdb.connect(str(reference / "warehouse.duckdb"), read_only=True) as wh:
        assert entries == wh.execute("SELECT count(*) FROM audit.publish_log").fetchall()
    assert _mart_files(crashed / "mart") == _mart_files(reference / "mart")
    assert _catalog(crashed / "mart") == _catalog(reference / "mart")
    assert not list((crashed / "mart").rglob(".*.tmp*")), "nothing left aside"
    if point != "publish:written":  # logged: the rerun finds the version published and completes it
        assert rerun.unchanged and rerun.version == (2 if restated else 1)
        assert rerun.recovered, "the rerun says what it recovered"
    else:  # nothing was logged: the file aside is removed and the rerun publishes the version itself
        assert not rerun.unchanged
        assert any("removed (left by an interrupted publish" in r for r in rerun.recovered)


def test_an_unlogged_version_file_is_adopted_when_it_holds_the_same_bytes(tmp_path: Path) -> None:
    """A version file written by an earlier release before its log entry (the old order): adopted when it is
    exactly what the entry now vouches for, removed when it is not."""
    root = tmp_path / "home"
    root.mkdir()
    _warehouse(root / "warehouse.duckdb")
    _publish(root, "2024-03", [1.0])
    mart = root / "mart"
    v1 = mart / "versions" / SPEC.name / "month=2024-03" / "v0001.parquet"
    with duckdb.connect(str(root / "warehouse.duckdb")) as wh:
        write(wh, "2024-03", [7.0])
        audit(wh, "2024-03")
        stray = v1.with_name("v0002.parquet")
        stray.write_bytes(v1.read_bytes())  # not the bytes of version 2
        result = wap.publish_month(wh, SPEC, "2024-03", mart)
        assert result.version == 2 and any("unlogged file with other content removed" in r for r in result.recovered)
        assert publish_verify.verify(wh, mart) == []


def test_a_draw_killed_after_its_commitment_draws_the_same_plan_on_rerun(
    conn: duckdb.DuckDBPyConnection,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    packages = tmp_path / "plans"

    class Killed(BaseException):
        """What a SIGKILL does to the draw: it stops there, nothing after it runs."""

    def die(name: str) -> None:
        if name == "draw:committed":
            raise Killed

    monkeypatch.setattr(faults, "crash_point", die)
    with pytest.raises(Killed):
        drawing.draw_month(conn, plan_policy.load_plans(), M, packages)
    monkeypatch.undo()
    first = frames.plan_id(frames.plans_active(plan_policy.load_plans(), M)[0], M)
    committed = conn.execute(
        "SELECT seed_commitment FROM sampling.commitments WHERE plan_id = $p", {"p": first}
    ).fetchall()[0][0]
    pending = packages / drawing.PENDING_DIR / f"{first}.json"
    assert pending.is_file() and not (packages / first).exists()
    assert oct(pending.stat().st_mode & 0o777) == oct(0o600)  # the seed is restricted

    drawn = drawing.draw_month(conn, plan_policy.load_plans(), M, packages)  # the rerun: no manual step
    doc = json.loads((packages / first / "plan.json").read_text(encoding="utf-8"))
    assert doc["seed_commitment"] == committed  # the seed committed before the crash, not a new one
    assert drawn[0].drawn_now and not pending.exists()
    signed = json.loads((packages / first / "commitment.json").read_text(encoding="utf-8"))
    assert signed["seed_commitment"] == committed


def test_a_package_left_aside_by_a_killed_draw_is_removed_and_reported(tmp_path: Path) -> None:
    packages = tmp_path / "plans"
    aside = packages / ".MR-GENERAL-2024-04.tmp-1a2b3c4d"
    aside.mkdir(parents=True)
    (aside / "frame.csv").write_text("uscc,stratum\n", encoding="utf-8")  # killed while writing the package
    (packages / drawing.PENDING_DIR).mkdir()
    (packages / drawing.PENDING_DIR / ".MR-GENERAL-2024-04.json.tmp").write_text("{", encoding="utf-8")
    (packages / "MR-FOOD-2024-04").mkdir()  # killed after its package was renamed into place
    (packages / drawing.PENDING_DIR / "MR-FOOD-2024-04.json").write_text("{}", encoding="utf-8")
    (packages / drawing.PENDING_DIR / "MR-PRODUCT-2024-04.json").write_text("{}", encoding="utf-8")  # still pending
    done = drawing.sweep_interrupted(packages)
    assert not aside.exists()
    assert [p.name for p in (packages / drawing.PENDING_DIR).iterdir()] == ["MR-PRODUCT-2024-04.json"]
    assert len(done) == 3 and "interrupted draw, removed" in done[0]


def test_a_month_run_killed_twice_completes_on_its_third_start(home, tmp_path: Path) -> None:
    """Real `zs-risk run` processes killed inside the chain (a publish just logged, then a draw just committed):
    the next start completes the month with no manual step, the dead runs are failed, and verify passes."""
    from zs_risk_pipeline import cli

    assert cli.main(["synth", "--enterprises", "800", "--months", "1", "--start", "2023-01", "--seed", "5"]) == 0

    def run(crash_at: str | None) -> subprocess.CompletedProcess:
        env = {k: v for k, v in os.environ.items() if k != faults.CRASH_ENV}
        env.update({faults.CRASH_ENV: crash_at} if crash_at else {})
        command = [sys.executable, "-m", "zs_risk_pipeline.cli", "run", "--month", "2023-01"]
        return subprocess.run(command, env=env, cwd=Path(__file__).parents[2], capture_output=True, text=True)

    for point in ("publish:logged", "draw:committed"):
        assert run(point).returncode == -signal.SIGKILL, point
    third = run(None)
    assert third.returncode == 0, third.stdout + third.stderr
    assert "died without finishing: marked it failed" in third.stdout
    verify = subprocess.run(
        [sys.executable, "-m", "zs_risk_pipeline.cli", "verify"], capture_output=True, text=True, cwd=tmp_path
    )
    assert verify.returncode == 0 and "intact" in verify.stdout, verify.stdout
    with duckdb.connect(str(home.warehouse), read_only=True) as wh:
        versions = wh.execute("SELECT DISTINCT version FROM audit.publish_log").fetchall()
        pending = wh.execute(
            "SELECT count(*) FROM sampling.commitments c WHERE NOT EXISTS "
            "(SELECT 1 FROM sampling.plan p WHERE p.plan_id = c.plan_id)"
        ).fetchall()
    assert versions == [(1,)]  # every table-month published once: the rerun completed, it did not republish
    assert pending == [(0,)] and not list((home.plans / drawing.PENDING_DIR).glob("*"))
