"""The zs-risk command's user errors (命令行错误提示): one line naming what is wrong, a non-zero exit, no
traceback, and a mistyped home is never created."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from zs_risk_pipeline import cli
from zs_risk_pipeline.cli import common
from zs_risk_pipeline.lib.core import resources, settings
from zs_risk_pipeline_tests.conftest import TEST_KEY

pytestmark = pytest.mark.e2e  # whole months through Dagster (make test runs them; -m "not e2e" skips)


def zs_risk(*argv: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """The command as a user runs it: its own process, so a traceback would show on stderr."""
    return subprocess.run(
        [sys.executable, "-m", "zs_risk_pipeline.cli", *argv], env=env, capture_output=True, text=True, timeout=300
    )


def one_line_error(result: subprocess.CompletedProcess, *names: str) -> str:
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("zs-risk: "), result.stderr
    for name in names:
        assert name in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """The test session's environment without a home; the policy folder stays the suite's pinned copy."""
    base = {k: v for k, v in os.environ.items() if k not in (settings.HOME_ENV, "DAGSTER_HOME")}
    return {**base, settings.PII_KEY_ENV: TEST_KEY}


@pytest.mark.parametrize(
    "argv",
    [
        ("summary",),
        ("verify", "--public-key", "00" * 32),
        ("verify-draw", "MR-GENERAL-2023-04"),
        ("run", "--month", "2023-01"),
        ("backfill", "--from", "2023-01", "--to", "2023-02"),
        ("ui",),
    ],
    ids=lambda argv: argv[0],
)
def test_a_missing_home_is_named_and_not_created(tmp_path: Path, env: dict[str, str], argv: tuple[str, ...]) -> None:
    typo = tmp_path / "hoem"
    one_line_error(zs_risk("--home", str(typo), *argv, env=env), str(typo), "does not exist")
    assert not typo.exists()
    # the same through the environment, the way a deployment sets it
    one_line_error(zs_risk(*argv, env={**env, settings.HOME_ENV: str(typo)}), str(typo), "does not exist")
    assert not typo.exists()


@pytest.mark.parametrize("month", ["2099-01", "2022-12"])
def test_a_month_outside_the_partitions_names_the_valid_months(tmp_path: Path, env: dict[str, str], month: str) -> None:
    from zs_risk_pipeline.defs.partitions import FIRST_MONTH

    (tmp_path / "home").mkdir()
    line = one_line_error(zs_risk("--home", str(tmp_path / "home"), "run", "--month", month, env=env), month)
    assert f"valid months are {FIRST_MONTH[:7]} … " in line
    line = one_line_error(
        zs_risk("--home", str(tmp_path / "home"), "backfill", "--from", "2022-11", "--to", "2023-02", env=env),
        "no monthly partition for 2022-11, 2022-12:",
    )
    assert f"valid months are {FIRST_MONTH[:7]} … " in line


def test_an_unknown_plan_id_names_the_nearest_plans(tmp_path: Path, env: dict[str, str]) -> None:
    home = settings.Paths(tmp_path / "home")
    for plan_id in ("MR-GENERAL-2024-04", "MR-GENERAL-2024-05", "MR-FOOD-2024-04", "TAX-2024-04"):
        (home.plans / plan_id).mkdir(parents=True)
    line = one_line_error(zs_risk("--home", str(home.home), "verify-draw", "MR-GENERAL-2024-4", env=env))
    assert "no plan MR-GENERAL-2024-4" in line and "nearest: MR-GENERAL-2024-04, MR-GENERAL-2024-05" in line
    line = one_line_error(zs_risk("verify-draw", "X", "--package", str(tmp_path / "nowhere"), env=env))
    assert f"no package folder {tmp_path / 'nowhere'}" in line


def test_verify_draw_caps_its_mismatch_lines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    from zs_risk_pipeline.lib.sampling import amendments, package

    # A wrong seed mismatches every task of the plan: thousands of problems.
    problems = [f"task {i}: selected by the package, not by the seed" for i in range(4316)]
    monkeypatch.setattr(amendments, "verify", lambda folder: list(problems))
    monkeypatch.setattr(package, "commitment_problems", lambda folder, verifier: [])
    (tmp_path / "package").mkdir()
    argv = ["verify-draw", "MR-GENERAL-2024-04", "--package", str(tmp_path / "package"), "--public-key", "00" * 32]
    assert cli.main(argv) == 1
    out = capsys.readouterr().out.splitlines()
    assert sum(line.startswith("MISMATCH: ") for line in out) == common.MAX_MISMATCH_LINES
    assert f"… and {4316 - common.MAX_MISMATCH_LINES:,} more mismatches not shown" in out
    assert out[-1] == "4,316 problem(s)"


def test_a_policy_folder_missing_a_file_is_named(tmp_path: Path, env: dict[str, str]) -> None:
    (tmp_path / "policy").mkdir()
    for name in resources.POLICY_FILES[1:]:
        (tmp_path / "policy" / name).write_bytes((resources.config_dir() / name).read_bytes())
    policy_env = {**env, resources.CONFIG_ENV: str(tmp_path / "policy")}
    new_home = tmp_path / "home"
    line = one_line_error(
        zs_risk("--home", str(new_home), "synth", "--enterprises", "10", env=policy_env),
        str(tmp_path / "policy"),
        f"lacks {resources.POLICY_FILES[0]}",
    )
    assert resources.CONFIG_ENV in line
    assert not new_home.exists()  # refused before anything was written


def test_the_ui_hint_fits_the_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    paths = settings.Paths(tmp_path / "home")
    root = resources.source_checkout()
    assert root is not None  # the tests run from a source checkout
    assert common._ui_hint(paths) == f"{settings.HOME_ENV}={paths.home} make ui"
    assert common._ui_hint(settings.Paths(root / settings.DEFAULT_HOME)) == "make ui"
    monkeypatch.setattr(resources, "source_checkout", lambda: None)  # as a pip install runs
    assert common._ui_hint(paths) == f"zs-risk --home {paths.home} ui"
