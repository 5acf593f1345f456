"""Packaging (打包安装): the wheel, installed into a fresh virtual environment, runs from any folder.

Builds the wheel from a copy of the source, installs it (and its dependencies, from the package index) into a new
venv that cannot see the source tree, then from another folder: synth, one month with the shipped policy, the next
month with an operator's policy folder (ZS_RISK_CONFIG) whose edit shows in the tier mix, a policy folder missing a
file refused in one line, and verify. Slow (two to three minutes, most of it pip): `pytest -m "not packaging"`
leaves it out.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
import zipfile
from pathlib import Path

import pytest
import yaml
from setuptools import find_packages

from zs_risk_pipeline.lib.core import resources, settings
from zs_risk_pipeline.lib.evidence import signing
from zs_risk_pipeline_tests.conftest import TEST_KEY, TEST_SIGNING_KEY

pytestmark = pytest.mark.e2e  # whole months through Dagster (make test runs them; -m "not e2e" skips)

SOURCE = Path(__file__).resolve().parents[2]
# What a wheel is built from: the package and the two top-level folders it ships.
BUILD_INPUTS = ("pyproject.toml", "README.md", "zs_risk_pipeline", "zs_risk_synth", "sql", "config")
TIERED_A = {"A": 0.70, "B": 0.15, "C": 0.10, "D": 0.05}  # the operator's edit: far more firms in tier A


def _run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, f"{cmd} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Built from a copy: building in the checkout would leave build/ and egg-info behind in it.
    src = tmp_path_factory.mktemp("src")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in BUILD_INPUTS:
        path = SOURCE / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=ignore)
        else:
            shutil.copy2(path, src / name)
    out = tmp_path_factory.mktemp("dist")
    _run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", str(src), "-w", str(out)])
    return next(out.glob("zs_risk-*.whl"))


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the wheel and its dependencies; it sees neither the source tree nor the dev venv."""
    root = tmp_path_factory.mktemp("venv")
    _run([sys.executable, "-m", "venv", str(root)])
    t0 = time.perf_counter()
    # --no-compile: byte-compiling every dependency costs more than the few modules the runs import
    _run([str(root / "bin" / "python"), "-m", "pip", "install", "--quiet", "--no-compile", str(wheel)], timeout=600)
    print(f"wheel and dependencies installed in {time.perf_counter() - t0:.0f} s")
    return root


def _env(venv: Path, **extra: str) -> dict[str, str]:
    drop = ("PYTHONPATH", "VIRTUAL_ENV", "DAGSTER_HOME", settings.HOME_ENV, resources.CONFIG_ENV)
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("ZS_RISK_")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return {**env, settings.PII_KEY_ENV: TEST_KEY, signing.SIGNING_KEY_ENV: TEST_SIGNING_KEY, **extra}


def test_pyproject_lists_every_subpackage() -> None:
    # pyproject.toml lists the packages by hand (`find` cannot map sql/ and config/ into the package): a new
    # subpackage left out of it would be missing from every install but the editable one.
    project = tomllib.loads((SOURCE / "pyproject.toml").read_text(encoding="utf-8"))
    listed = set(project["tool"]["setuptools"]["packages"])
    found = set(find_packages(str(SOURCE), include=["zs_risk_pipeline", "zs_risk_pipeline.*", "zs_risk_synth"]))
    assert not found - listed, f"add {sorted(found - listed)} to [tool.setuptools] packages in pyproject.toml"
    assert listed - found == {"zs_risk_pipeline.sql", "zs_risk_pipeline.config"}


@pytest.mark.packaging
def test_the_wheel_ships_every_package_file_the_sql_and_the_policy(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {
        **{
            f: f.relative_to(SOURCE)
            for package in ("zs_risk_pipeline", "zs_risk_synth")
            for f in (SOURCE / package).rglob("*")
            if "__pycache__" not in f.parts
        },
        **{f: Path("zs_risk_pipeline") / f.relative_to(SOURCE) for f in (SOURCE / "sql").rglob("*.sql")},
        **{f: Path("zs_risk_pipeline") / f.relative_to(SOURCE) for f in (SOURCE / "config").iterdir()},
    }
    missing = sorted(str(inside) for f, inside in shipped.items() if f.is_file() and inside.as_posix() not in names)
    assert not missing, f"not in the wheel: {missing}"


@pytest.mark.packaging
def test_installed_zs_risk_runs_from_another_folder(venv: Path, tmp_path: Path) -> None:
    work = tmp_path / "elsewhere"
    work.mkdir()
    home = tmp_path / "home"

    def zs_risk(*argv: str, **extra: str) -> subprocess.CompletedProcess:
        cmd = [str(venv / "bin" / "zs-risk"), "--home", str(home), *argv]
        return subprocess.run(cmd, cwd=work, env=_env(venv, **extra), capture_output=True, text=True, timeout=600)

    probe = "from zs_risk_pipeline.lib.core import resources as r; print(r.__file__, r.source_checkout(), r.sql_dir(), "
    probe += "r.config_dir())"
    where = _run([str(venv / "bin" / "python"), "-c", probe], cwd=work, env=_env(venv)).stdout.split()
    site = venv.resolve()
    assert Path(where[0]).resolve().is_relative_to(site), where  # the wheel's copy, not the editable source
    assert where[1] == "None" and Path(where[2]).is_relative_to(site) and Path(where[3]).is_relative_to(site)

    synth = zs_risk("synth", "--enterprises", "800", "--months", "2", "--start", "2023-01", "--seed", "5")
    assert synth.returncode == 0, synth.stderr[-3000:]
    first = zs_risk("run", "--month", "2023-01")
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    assert "2023-01: ok" in first.stdout
    assert (home / "mart" / "mart.duckdb").is_file()
    assert any((home / "mart" / "data" / "enterprise_tiers").glob("month=2023-01/*.parquet"))

    # An operator's policy folder: a copy of the shipped one with other tier shares.
    policy = tmp_path / "policy"
    shutil.copytree(resources.shipped_config_dir(), policy)
    doc = yaml.safe_load((policy / "tier_policy.yaml").read_text(encoding="utf-8"))
    doc["target_shares"] = TIERED_A
    (policy / "tier_policy.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    second = zs_risk("run", "--month", "2023-02", **{resources.CONFIG_ENV: str(policy)})
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]

    summary = zs_risk("summary", **{resources.CONFIG_ENV: str(policy)})
    assert summary.returncode == 0, summary.stderr[-3000:]
    mix = dict(re.findall(r"^\s+(2023-0[12]):\s+[\d,]+ enterprises(.*)$", summary.stdout, re.MULTILINE))
    shares = {month: float(re.search(r" A\s+([\d.]+)%", line).group(1)) for month, line in mix.items()}
    assert shares["2023-01"] < 45 and shares["2023-02"] > 60, summary.stdout  # the edit took effect
    assert "(policy changed)" in mix["2023-02"], summary.stdout
    assert "make ui" not in summary.stdout and "zs-risk --home" in summary.stdout  # the hint fits a pip install

    (policy / "scorecard.yaml").unlink()
    refused = zs_risk("run", "--month", "2023-02", **{resources.CONFIG_ENV: str(policy)})
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert refused.stderr.strip() == f"zs-risk: policy folder {resources.CONFIG_ENV}={policy} lacks scorecard.yaml"

    public = signing.Signer.from_hex(TEST_SIGNING_KEY).verifier.public_hex
    verified = zs_risk("verify", "--public-key", public)
    assert verified.returncode == 0 and "intact" in verified.stdout, verified.stdout + verified.stderr
