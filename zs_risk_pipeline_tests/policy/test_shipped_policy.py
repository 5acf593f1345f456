"""The shipped policy (随附政策口径): every file of config/ valid under its model, and the tests independent of it.

The rest of the suite runs on the pinned copy zs_risk_pipeline_tests/fixtures/policy/ (conftest.py), so these are the
only tests that read config/ itself.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from zs_risk_pipeline.lib.core import resources
from zs_risk_pipeline.lib.policy import base, folder, versions
from zs_risk_pipeline_tests.conftest import POLICY_FIXTURE

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = resources.shipped_config_dir()


def test_every_shipped_file_is_valid_under_its_model() -> None:
    policy = folder.load_policy_folder(SHIPPED)
    for name, model in folder.MODELS.items():
        assert isinstance(base.load_file(model, SHIPPED / name), model), name
    # every YAML policy file has a model; dagster.yaml is the instance template, not policy
    assert {p.name for p in SHIPPED.glob("*.yaml")} - set(folder.MODELS) == {resources.INSTANCE_TEMPLATE}
    assert set(resources.POLICY_FILES) == {*folder.MODELS, folder.ALLOWLIST}
    # and every domain object builds
    assert policy.scorecard.rules and policy.tier_policy.overrides and policy.sampling_plans and policy.model
    assert policy.monitoring.key_indicators and policy.warning_rules and policy.publicity.departments
    assert policy.deliveries.every_month and policy.features.entity_types_in_scope and policy.feature_drift.bins


def test_the_files_that_name_their_validator_name_its_model() -> None:
    # config/*.yaml comments are the operators' documentation: where a file says what validates it, it says right
    for name in ("deliveries.yaml", "publicity.yaml", "sampling_plans.yaml"):
        header = (SHIPPED / name).read_text(encoding="utf-8")[:600]
        assert f"zs_risk_pipeline/lib/policy/{name.removesuffix('.yaml')}.py" in header, name


def test_the_test_policy_is_a_full_policy_folder() -> None:
    # a file added to config/ must be added to the pinned copy too, or the suite would read a folder that lacks it
    assert sorted(p.name for p in SHIPPED.iterdir() if p.is_file()) == sorted(
        p.name for p in POLICY_FIXTURE.iterdir() if p.is_file()
    )
    assert resources.config_dir() == POLICY_FIXTURE  # the whole session reads the pinned copy
    assert folder.current().folder == POLICY_FIXTURE


def test_an_operators_edit_of_config_changes_no_test_outcome(tmp_path: Path) -> None:
    """A checkout whose config/ an operator edited (other tier shares, another plan ratio, a scorecard point): the
    tests that assert the shipped numbers still pass, because they read the pinned copy."""
    repo = tmp_path / "repo"
    skip = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("zs_risk_pipeline", "zs_risk_synth", "zs_risk_pipeline_tests", "sql", "config"):
        shutil.copytree(ROOT / name, repo / name, ignore=skip)
    shutil.copy(ROOT / "pyproject.toml", repo / "pyproject.toml")

    def edit(name: str, change) -> None:
        path = repo / "config" / name
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        change(doc)
        path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")

    edit("tier_policy.yaml", lambda d: d.update(target_shares={"A": 0.30, "B": 0.50, "C": 0.12, "D": 0.08}))
    edit("sampling_plans.yaml", lambda d: d["plans"][0]["tiers"]["B"].update(ratio="0.07"))
    edit("scorecard.yaml", lambda d: d["rules"][0].update(points=70))
    edited = folder.load_policy_folder(repo / "config")
    assert edited.tier_policy.target_shares["A"] == 0.30 and edited.scorecard.rules[0].points == 70
    assert versions.current("tiers", edited).version != versions.current("tiers").version  # a real policy change

    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", resources.CONFIG_ENV)}
    env["PYTHONPATH"] = str(repo)

    def pytest(*tests: str) -> subprocess.CompletedProcess:
        cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-o", "addopts=", *tests]
        return subprocess.run(cmd, cwd=repo, env=env, capture_output=True, text=True, timeout=600)

    run = pytest(
        "zs_risk_pipeline_tests/tiers/test_tiers.py",  # asserts the shares 0.40/0.45/0.10/0.05
        "zs_risk_pipeline_tests/model/test_scorecard.py",  # recomputes the points of the pinned rules
        "zs_risk_pipeline_tests/sampling/test_sampling.py::test_default_plans",
        "zs_risk_pipeline_tests/sampling/test_sampling.py::test_bad_plans_are_refused_naming_the_file_and_the_plan",
    )
    assert run.returncode == 0 and " passed" in run.stdout, run.stdout[-3000:] + run.stderr[-3000:]

    # The control: the same checkout with the suite reading config/ (no pinned copy) fails on the edit.
    conftest = repo / "zs_risk_pipeline_tests" / "conftest.py"
    pin = "os.environ[resources.CONFIG_ENV] = str(POLICY_FIXTURE)"
    assert pin in conftest.read_text(encoding="utf-8")
    conftest.write_text(conftest.read_text(encoding="utf-8").replace(pin, "pass"), encoding="utf-8")
    unpinned = pytest("zs_risk_pipeline_tests/tiers/test_tiers.py::test_default_policy")
    assert unpinned.returncode == 1 and "1 failed" in unpinned.stdout, unpinned.stdout[-3000:]
