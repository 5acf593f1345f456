"""Missing deliveries and policy versions: a month whose expected sources have not delivered is not published and
drafts no plans unless an operator releases it; a rerun under a changed policy is a new version that says so."""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from zs_risk_pipeline import cli
from zs_risk_pipeline.cli import common
from zs_risk_pipeline.definitions import build_defs
from zs_risk_pipeline.lib.core import resources
from zs_risk_pipeline.lib.ingest import deliveries
from zs_risk_pipeline.lib.policy import versions as policy_versions
from zs_risk_pipeline.lib.publish import tables
from zs_risk_pipeline_tests.conftest import policy_file, policy_variant, yaml_variant
from zs_risk_pipeline_tests.orchestration.test_dagster_month import _deliver

pytestmark = pytest.mark.e2e  # whole months through Dagster (make test runs them; -m "not e2e" skips)

POLICY = deliveries.load_policy()


def test_the_shipped_policy_expects_every_source_and_names_the_empty_ones() -> None:
    assert {"registry", "inspectors", "inspections", "plans"} <= set(POLICY.every_month)
    assert "registry" not in POLICY.may_be_empty and "conflicts" in POLICY.may_be_empty


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d["every_month"].append("weather"), r"^deliveries\.yaml: every_month: 'weather' is not a source"),
        (lambda d: d.update(sometimes=["plans"]), r"^deliveries\.yaml: sometimes: unknown key \(allowed: every_month"),
        (lambda d: d.update(every_month=["registry"]), r"may_be_empty: 'annual_reports' is not in every_month"),
        (lambda d: d["may_be_empty"].append("conflicts"), r"may_be_empty: lists a source twice: \['conflicts'\]"),
        (lambda d: d.update(every_month="registry"), r"every_month: must be a list of source names"),
    ],
)
def test_a_bad_delivery_policy_is_refused(tmp_path: Path, edit, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        deliveries.load_policy(yaml_variant(tmp_path, policy_file("deliveries.yaml"), edit))


def test_missing_sources_names_the_source_the_folder_and_why() -> None:
    delivered = {s: {"files": 1, "rows": 5, "rejected": 0} for s in POLICY.every_month}
    delivered["inspectors"] = {"files": 0, "rows": 0, "rejected": 1}
    delivered["registry"] = {"files": 1, "rows": 0, "rejected": 0}
    delivered["conflicts"] = {"files": 1, "rows": 0, "rejected": 0}  # nothing declared: legitimate
    del delivered["plans"]
    found = {m.source: m.message() for m in deliveries.missing_sources(delivered, POLICY, "2024-03")}
    assert found == {
        "registry": "registry: 1 file(s) without rows (rows are required) in landing/registry/2024-03/",
        "plans": "plans: no file delivered in landing/plans/2024-03/",
        "inspectors": "inspectors: only rejected files (1) in landing/inspectors/2024-03/",
    }


def _run(release: str | None = None) -> dg.ExecuteInProcessResult:
    config = {"ops": {"ingest__deliveries": {"config": {"release_reason": release}}}} if release else None
    job = build_defs().resolve_job_def("monthly_chain")
    with dg.DagsterInstance.get() as instance:
        return job.execute_in_process(
            partition_key="2024-03-01", instance=instance, run_config=config, raise_on_error=False
        )


def _log(home) -> list[tuple]:
    with duckdb.connect(str(home.warehouse), read_only=True) as conn:
        return conn.execute("SELECT mart_table, version, context FROM audit.publish_log ORDER BY seq").fetchall()


def test_a_month_missing_a_source_is_not_published_until_released_and_a_policy_change_is_a_version(
    home, monkeypatch, tmp_path, capsys
) -> None:
    _deliver(home)  # registry, a penalty file (rejected) and the inspector directory: most sources missing
    common._use_home(None)
    result = _run()
    assert not result.success
    check = next(e for e in result.get_asset_check_evaluations() if e.check_name == "expected_sources_delivered")
    assert not check.passed
    missing = check.metadata["missing_sources"].value
    assert "plans: no file delivered in landing/plans/2024-03/" in missing
    assert "penalties: only rejected files (1) in landing/penalties/2024-03/" in missing
    assert not any(m.startswith("registry:") or m.startswith("inspectors:") for m in missing)
    done = {m.asset_key.to_user_string() for m in result.get_asset_materialization_events()}
    assert "features/enterprise_monthly" not in done and not any(k.startswith("mart/") for k in done)
    assert not (home.plans).exists() or not any((home.plans).iterdir())  # no plans drafted
    assert not (home.mart / "mart.duckdb").exists()

    # the operator releases the month with a reason: it is built, published, and the release is on record
    assert cli.main(["run", "--month", "2024-03", "--release-missing", "test city: one firm, no other systems"]) == 0
    out = capsys.readouterr().out
    assert "released despite missing sources: test city: one firm, no other systems" in out
    log = _log(home)
    assert {t for t, _, _ in log} == set(tables.MART_TABLES)  # every mart table of the month
    for _, version, context in log:
        doc = json.loads(context)
        assert version == 1 and doc["release"]["reason"] == "test city: one firm, no other systems"
        assert "plans: no file delivered in landing/plans/2024-03/" in [
            f"{m['source']}: {m['problem']} in {m['folder']}" for m in doc["release"]["missing"]
        ]
    tiers_entry = json.loads(next(c for t, _, c in log if t == "enterprise_tiers"))
    assert tiers_entry["policy"] == policy_versions.current("tiers").as_json()
    assert (home.plans / "MR-GENERAL-2024-04" / "plan.json").exists()
    plan_doc = json.loads((home.plans / "MR-GENERAL-2024-04" / "plan.json").read_text(encoding="utf-8"))
    assert plan_doc["policy_version"] == policy_versions.current("sampling").version

    # a rerun under an edited tier policy: a new version of the tiers that says the policy changed, and which file
    variant = policy_variant(
        tmp_path, "tier_policy.yaml", lambda d: d.update(target_shares={"A": 0.30, "B": 0.50, "C": 0.12, "D": 0.08})
    )
    monkeypatch.setenv(resources.CONFIG_ENV, str(variant))
    # (no flag: the month's release holds for its later runs while no other source is missing)
    assert cli.main(["run", "--month", "2024-03"]) == 0
    assert "released despite missing sources: test city: one firm, no other systems" in capsys.readouterr().out
    log = _log(home)
    latest = {t: (v, json.loads(c)) for t, v, c in log}
    assert latest["enterprise_tiers"][0] == 2
    assert latest["enterprise_tiers"][1]["policy_changed"] == ["config/tier_policy.yaml"]
    assert latest["enterprise_tiers"][1]["policy"]["version"] == policy_versions.current("tiers").version
    assert latest["enterprise_features"][0] == 1  # the feature scope did not change: nothing restated
    with duckdb.connect(str(home.warehouse), read_only=True) as conn:
        versions = conn.execute("SELECT DISTINCT policy_version FROM tiers.enterprise_monthly").fetchall()
    assert versions == [(policy_versions.current("tiers").version,)]
    assert cli.main(["summary"]) == 0
    summary = capsys.readouterr().out
    assert f"policy {policy_versions.current('tiers').version}" in summary
    assert "enterprise_tiers 2024-03 v2: policy changed (config/tier_policy.yaml)" in summary


def test_an_empty_home_says_so_in_one_line(home, capsys) -> None:
    assert cli.main(["run", "--month", "2024-03"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"zs-risk: no landing data in {home.landing}")


def test_an_unchanged_snapshot_delivered_again_is_a_delivery(home, warehouse) -> None:
    from zs_risk_pipeline.lib.ingest import staging
    from zs_risk_pipeline_tests.conftest import drop, ingest_month

    header = "inspector_id,department,branch,qualifications,certificate_valid_until,active"
    text = f"{header}\nI1,SCJGJ,city,general,2025-12-31,1\n"
    for month in ("2024-02", "2024-03"):
        drop(home, "inspectors", month, f"inspectors_{month}.csv", text)  # the same bytes: nothing changed
        ingest_month(warehouse, home, "inspectors", month)
    files = staging.files(warehouse, "inspectors", "2024-03")
    assert [(f.status, f.error_code, f.problem) for f in files] == [("duplicate_file", staging.REPEATED, False)]
    found = deliveries.check_month(warehouse, "2024-03", POLICY)
    assert found.delivered["inspectors"] == {"files": 1, "rows": 1, "rejected": 0}
    assert "inspectors" not in {m.source for m in found.missing}
