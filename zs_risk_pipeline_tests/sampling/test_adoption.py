"""Adopting a proposal of ratios (采纳抽查比例调整建议): the operator's step writes only the proposed ratios into the
policy folder in use, and refuses a proposal that no longer stands (computed under another policy, already adopted,
its report edited), the shipped policy and a month without a proposal; a home's own policy folder is the one its
commands read."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import duckdb
import pytest

from zs_risk_pipeline.cli import common
from zs_risk_pipeline.lib.core import resources, settings
from zs_risk_pipeline.lib.policy.folder import load_policy_folder
from zs_risk_pipeline.lib.sampling import adoption, plan_policy, proposals
from zs_risk_pipeline_tests.sampling.test_proposals import PLANS_YAML, M, conn, plans, policy  # noqa: F401

MONTH = f"{M:%Y-%m}"
# The hand city's proposal of March (test_proposals.test_the_proposal_by_hand_within_the_change_bound_and_the_budget).
ADOPTED = {
    ("MR-GENERAL", "B"): ("0.05", "0.035"),
    ("MR-GENERAL", "C"): ("0.15", "0.20"),
    ("MR-GENERAL", "D"): ("0.60", "0.65"),
    ("MR-FOOD", "A"): ("0.03", "0.01"),
    ("MR-FOOD", "B"): ("0.10", "0.11"),
    ("MR-FOOD", "C"): ("0.20", "0.25"),
}


@pytest.fixture
def proposed(
    conn: duckdb.DuckDBPyConnection,  # noqa: F811
    plans: list[plan_policy.SamplingPlan],  # noqa: F811
    tmp_path: Path,
) -> tuple[proposals.Proposal, Path]:
    """The proposal of March built under the operator's policy folder; (proposal, reports folder)."""
    reports = tmp_path / "reports"
    return proposals.build_allocation(conn, plans[:2], M, reports, policy(tmp_path)), reports


def test_adopting_writes_only_the_proposed_ratios_and_records_it(
    conn: duckdb.DuckDBPyConnection,  # noqa: F811
    proposed: tuple[proposals.Proposal, Path],
    tmp_path: Path,
) -> None:
    proposal, reports = proposed
    folder = tmp_path / "policy" / "policy"
    operator = load_policy_folder(folder)
    done = adoption.adopt(conn, MONTH, reports, operator)
    assert done.changes == ADOPTED
    assert done.version_before == proposal.rows["policy_version"].iloc[0]
    assert done.summary() == (
        "MR-FOOD A 0.03→0.01, B 0.10→0.11, C 0.20→0.25; MR-GENERAL B 0.05→0.035, C 0.15→0.20, D 0.60→0.65"
    )
    # The operator's file, byte for byte, but for the adopted ratios (its comments kept); no proposal header.
    expected = PLANS_YAML
    for (plan, tier), (before, after) in ADOPTED.items():
        start = expected.index(f"  - id: {plan}\n")
        at = expected.index(f'      {tier}: {{ratio: "{before}"}}', start)
        expected = expected[:at] + expected[at:].replace(f'"{before}"', f'"{after}"', 1)
    assert (folder / "sampling_plans.yaml").read_text(encoding="utf-8") == expected
    adopted = load_policy_folder(folder)
    assert {(p.id, t): r.ratio for p in adopted.sampling_plans for t, r in p.tiers.items() if (p.id, t) in ADOPTED} == {
        k: after for k, (_, after) in ADOPTED.items()
    }
    # The policy changed, so every output computed from now on says so; the record says from which version to which.
    assert done.version_after != done.version_before
    record = json.loads((reports / "allocation" / MONTH / adoption.RECORD_FILE).read_text(encoding="utf-8"))
    assert record["version_before"] == done.version_before and record["version_after"] == done.version_after
    assert [(c["plan"], c["tier"], c["before"], c["adopted"]) for c in record["changes"]] == [
        (p, t, b, a) for (p, t), (b, a) in sorted(ADOPTED.items())
    ]
    # Adopting it again is refused: it is in force already.
    with pytest.raises(adoption.AdoptionError, match=f"the proposal of {MONTH} is already adopted in {folder}"):
        adoption.adopt(conn, MONTH, reports, adopted)


def test_a_proposal_computed_under_another_policy_is_refused(
    conn: duckdb.DuckDBPyConnection,  # noqa: F811
    proposed: tuple[proposals.Proposal, Path],
    tmp_path: Path,
) -> None:
    _, reports = proposed
    folder = tmp_path / "policy" / "policy"
    plans_file = folder / "sampling_plans.yaml"
    edited = PLANS_YAML.replace("workload_cap: 10", "workload_cap: 12", 1)  # an operator's edit after the proposal
    plans_file.write_text(edited, encoding="utf-8")
    with pytest.raises(adoption.AdoptionError, match=r"was computed under policy version .* rerun sampling/allocation"):
        adoption.adopt(conn, MONTH, reports, load_policy_folder(folder))
    assert plans_file.read_text(encoding="utf-8") == edited  # nothing written


def test_an_edited_report_is_refused(
    conn: duckdb.DuckDBPyConnection,  # noqa: F811
    proposed: tuple[proposals.Proposal, Path],
    tmp_path: Path,
) -> None:
    proposal, reports = proposed
    report = proposal.reports["proposal_file"]
    text = report.read_text(encoding="utf-8")
    start = text.index("  - id: MR-GENERAL\n")
    at = text.index('D: {ratio: "0.65"}', start)
    report.write_text(text[:at] + text[at:].replace('"0.65"', '"0.95"', 1), encoding="utf-8")
    folder = tmp_path / "policy" / "policy"
    refused = r"MR-GENERAL D reads 0.95, but the proposal of 2024-03 .* is 0.65"
    with pytest.raises(adoption.AdoptionError, match=refused):
        adoption.adopt(conn, MONTH, reports, load_policy_folder(folder))
    assert (folder / "sampling_plans.yaml").read_text(encoding="utf-8") == PLANS_YAML


def test_the_shipped_policy_and_a_month_without_proposal_are_refused(
    conn: duckdb.DuckDBPyConnection,  # noqa: F811
    proposed: tuple[proposals.Proposal, Path],
    tmp_path: Path,
) -> None:
    _, reports = proposed
    shipped = load_policy_folder(resources.shipped_config_dir())
    with pytest.raises(adoption.AdoptionError, match=r"is the shipped one .* adopt into your own copy"):
        adoption.adopt(conn, MONTH, reports, shipped)
    with pytest.raises(adoption.AdoptionError, match=r"no proposal for 2024-04 in sampling\.allocation"):
        adoption.adopt(conn, "2024-04", reports, load_policy_folder(tmp_path / "policy" / "policy"))


def test_a_homes_own_policy_folder_is_read_unless_another_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = settings.Paths(tmp_path / "home")
    args = argparse.Namespace(home=str(home.home))
    monkeypatch.delenv(resources.CONFIG_ENV)
    common.use_home_policy(args)  # no folder of its own: the shipped policy
    assert resources.config_dir() == resources.shipped_config_dir()
    home.policy.mkdir(parents=True)
    common.use_home_policy(args)
    assert resources.config_dir() == home.policy
    elsewhere = tmp_path / "bureau"
    monkeypatch.setenv(resources.CONFIG_ENV, str(elsewhere))
    common.use_home_policy(args)
    assert resources.config_dir() == elsewhere
