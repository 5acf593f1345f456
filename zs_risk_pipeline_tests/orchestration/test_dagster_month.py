"""One month materialised through Dagster into a temporary ZS_RISK_HOME, as the UI and CLI do."""

from __future__ import annotations

import dagster as dg
import duckdb
import pytest

from zs_risk_pipeline import cli
from zs_risk_pipeline.definitions import build_defs
from zs_risk_pipeline.lib.core import settings
from zs_risk_pipeline.lib.ingest import staging
from zs_risk_pipeline_tests.conftest import drop
from zs_risk_pipeline_tests.ingest.test_ingest import REG_HEADER, reg_row

pytestmark = pytest.mark.e2e  # whole months through Dagster (make test runs them; -m "not e2e" skips)


def _deliver(home):
    drop(
        home,
        "registry",
        "2024-03",
        "r.csv",
        "\n".join([REG_HEADER, reg_row(), reg_row(uscc="91442000MA5L30P863")]) + "\n",
    )
    drop(home, "penalties", "2024-03", "p.csv", "case_no,uscc,decided_on\nP1,91442000MA5L30P862,2024-03-01\n")
    staff = ["I1,SCJGJ,city,general;food,2025-12-31,1", "I2,SCJGJ,city,general,2025-12-31,1"]
    header = "inspector_id,department,branch,qualifications,certificate_valid_until,active"
    drop(home, "inspectors", "2024-03", "i.csv", "\n".join([header, *staff]) + "\n")


# Three sources of a one-firm city: the other expected sources are missing, so the month is released.
RELEASE = {"ops": {"ingest__deliveries": {"config": {"release_reason": "test: a one-firm city"}}}}


def test_month_materialises_with_metadata_and_passing_checks(home):
    _deliver(home)
    result = (
        build_defs()
        .resolve_job_def("monthly_chain")
        .execute_in_process(partition_key="2024-03-01", instance=dg.DagsterInstance.ephemeral(), run_config=RELEASE)
    )
    assert result.success
    evals = {(e.asset_key.to_user_string(), e.check_name): e for e in result.get_asset_check_evaluations()}
    assert evals[("staging/registry", "raw_equals_staged_plus_quarantined")].passed
    assert not evals[("raw/penalties", "every_file_readable")].passed  # the penalty file lacks violation_type
    md = {m.asset_key.to_user_string(): m.materialization.metadata for m in result.get_asset_materialization_events()}
    reg = md["staging/registry"]
    assert reg["dagster/partition_row_count"].value == 1
    assert reg["quarantined_rows"].value == 1
    assert "uscc_checksum" in reg["quarantine_by_reason"].value
    assert {c.name for c in reg["dagster/column_schema"].value.columns} >= {"uscc", "legal_rep_hash", "record_date"}
    assert "91442000MA5L30P862" in reg["preview"].value
    assert md["raw/penalties"]["files_rejected"].value == 1
    # model and tiers: one enterprise (the other was quarantined), no labels → cold start; the scorecard
    # tiers it and the tiers publish
    assert md["model/risk_model"]["status"].value == "cold_start"
    tiers_md = md["tiers/enterprise_monthly"]
    assert tiers_md["model_kind"].value == "scorecard"
    assert sum(tiers_md["tier_counts"].value.values()) == tiers_md["dagster/partition_row_count"].value == 1
    for check in (
        "tiers_quality_suite",
        "one_tier_per_alive_enterprise",
        "serving_model_verified",
        "holdout_problem_rate_increasing",
    ):
        assert evals[("tiers/enterprise_monthly", check)].passed, check
    assert evals[("model/risk_model", "serving_model_promotion_gate")].passed
    assert md["mart/enterprise_tiers"]["dagster/partition_row_count"].value == 1
    # the April plans drawn from March's tiers: the one enterprise is drawn by the publicity check, staffed by
    # the two city-level inspectors, and its package verifies
    assert md["sampling/plan"]["dagster/partition_row_count"].value >= 1
    assert evals[("sampling/plan", "plan_packages_verify")].passed
    assert (home.plans / "MR-GENERAL-2024-04" / "plan.json").exists()
    assert "missing" in md["raw/penalties"]["rejected_files"].value[0]


def test_a_failed_reconciliation_blocks_the_run(home, monkeypatch):
    _deliver(home)
    real_stage = staging.stage

    def losing_stage(conn, source_name, month):  # a bug that loses a row must not pass unnoticed
        out = real_stage(conn, source_name, month)
        if source_name == "registry":
            conn.execute("DELETE FROM staging.registry")
        return out

    monkeypatch.setattr(staging, "stage", losing_stage)
    result = (
        build_defs()
        .resolve_job_def("monthly_chain")
        .execute_in_process(
            partition_key="2024-03-01",
            instance=dg.DagsterInstance.ephemeral(),
            raise_on_error=False,
            run_config=RELEASE,
        )
    )
    assert not result.success
    failed = [e for e in result.get_asset_check_evaluations() if not e.passed and e.check_name.startswith("raw_equals")]
    assert [e.asset_key.to_user_string() for e in failed] == ["staging/registry"]
    assert "staged 0" in failed[0].metadata["unbalanced_files"].value[0]
    # the other sources still stage; nothing built on the staging layer runs
    built = {m.asset_key.to_user_string() for m in result.get_asset_materialization_events()}
    assert {"staging/penalties", "staging/inspectors"} <= built
    assert not {k for k in built if k.startswith(("features/", "tiers/", "mart/"))}


def test_cli_run_uses_the_persistent_instance_and_refuses_without_key(home, monkeypatch, capsys):
    _deliver(home)
    assert cli.main(["run", "--month", "2024-03", "--release-missing", "test: a one-firm city"]) == 0
    out = capsys.readouterr().out
    assert "2024-03: ok" in out
    with duckdb.connect(str(home.warehouse), read_only=True) as conn:
        assert conn.execute("SELECT count(*) FROM staging.registry").fetchall() == [(1,)]
    with dg.DagsterInstance.get() as instance:
        assert len(instance.get_runs()) == 1  # visible in the UI's run history

    monkeypatch.delenv(settings.PII_KEY_ENV)
    assert cli.main(["run", "--month", "2024-03"]) == 2
    assert settings.PII_KEY_ENV in capsys.readouterr().err


def test_one_source_is_built_alone_from_the_ingest_layers(home):
    """The ingest layers are one step each, yet a job (or the UI) can build a single source: only its raw and
    staging assets materialise and only their checks are evaluated."""
    _deliver(home)
    job = build_defs().resolve_job_def("monthly_chain")
    only = [dg.AssetKey(["raw", "registry"]), dg.AssetKey(["staging", "registry"])]
    result = job.get_subset(asset_selection=set(only)).execute_in_process(
        partition_key="2024-03-01", instance=dg.DagsterInstance.ephemeral()
    )
    assert result.success
    assert {m.asset_key for m in result.get_asset_materialization_events()} == set(only)
    evals = {(e.asset_key.to_user_string(), e.check_name, e.partition) for e in result.get_asset_check_evaluations()}
    assert {e[:2] for e in evals} == {
        ("raw/registry", "every_file_readable"),
        ("staging/registry", "raw_equals_staged_plus_quarantined"),
    }
    assert {e[2] for e in evals} == {"2024-03-01"}  # each verdict belongs to the month, as the UI shows it
    with duckdb.connect(str(home.warehouse), read_only=True) as conn:
        assert conn.execute("SELECT count(*) FROM staging.registry").fetchall() == [(1,)]
        tables = {
            t for (t,) in conn.execute("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'raw'").fetchall()
        }
    assert "penalties" not in tables  # the other sources were not landed
