"""Through Dagster: features are written, audited by blocking checks, then published; a failed audit
stops the publish and the mart keeps its previous version."""

from __future__ import annotations

import dagster as dg
import duckdb
import pytest

import zs_risk_synth as synth
from zs_risk_pipeline.definitions import build_defs
from zs_risk_pipeline.lib.core.month import Month
from zs_risk_pipeline.lib.features import enterprise_monthly
from zs_risk_pipeline.lib.publish import tables

pytestmark = pytest.mark.e2e  # whole months through Dagster (make test runs them; -m "not e2e" skips)

MONTHS = ["2023-01", "2023-02"]


@pytest.fixture
def city(home):
    synth.generate(home.landing, home.ground_truth, enterprises=1500, months=len(MONTHS), start=MONTHS[0], seed=3)
    return home


def run(month: str, instance: dg.DagsterInstance) -> dg.ExecuteInProcessResult:
    return (
        build_defs()
        .resolve_job_def("monthly_chain")
        .execute_in_process(partition_key=f"{month}-01", instance=instance, raise_on_error=False)
    )


def published(home, month: str) -> list[tuple]:
    with duckdb.connect(str(home.mart / tables.MART_FILE), read_only=True) as r:
        return r.execute(
            "SELECT * FROM enterprise_features WHERE month = $m ORDER BY uscc", {"m": Month.of(month).start}
        ).fetchall()


def test_failed_audit_blocks_the_publish_and_keeps_the_previous_version(city, monkeypatch):
    instance = dg.DagsterInstance.ephemeral()
    for month in MONTHS:
        result = run(month, instance)
        assert result.success, [e.event_specific_data.error.message for e in result.get_step_failure_events()]
    # the second month's drift check compared every indicator with the first month (warning only)
    psi = next(e for e in result.get_asset_check_evaluations() if e.check_name == "indicator_drift_psi")
    assert psi.severity == dg.AssetCheckSeverity.WARN
    assert "max_psi" in psi.metadata and "| indicator | PSI | severity |" in psi.metadata["psi_top10"].value
    before = published(city, MONTHS[1])
    assert before

    first = next(i.name for i in enterprise_monthly.indicators() if i.min is not None)
    real_build = enterprise_monthly.build_enterprise_monthly

    def broken_build(conn, month, entity_types=None):  # a bug that writes an impossible value into one row
        n = real_build(conn, month, entity_types)
        conn.execute(
            f"UPDATE features.enterprise_monthly SET {first} = -1e9 "
            "WHERE month = $m AND uscc = (SELECT min(uscc) FROM features.enterprise_monthly WHERE month = $m)",
            {"m": Month.of(month).start},
        )
        return n

    monkeypatch.setattr(enterprise_monthly, "build_enterprise_monthly", broken_build)
    result = run(MONTHS[1], instance)
    assert not result.success
    suite = next(e for e in result.get_asset_check_evaluations() if e.check_name == "features_quality_suite")
    assert not suite.passed
    counts = suite.metadata["unexpected_counts"].value
    assert counts[f"expect_column_values_to_be_between:{first}"] == 1
    mats = {m.asset_key.to_user_string() for m in result.get_asset_materialization_events()}
    assert "features/enterprise_monthly" in mats and "mart/enterprise_features" not in mats
    assert published(city, MONTHS[1]) == before
