"""Checks on the monthly features (特征校验): two blocking audits that gate the publish, one drift warning."""

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource

from zs_risk_pipeline.defs.audit import Gate, RunInputs, alive_row_count, audited_check
from zs_risk_pipeline.defs.partitions import monthly
from zs_risk_pipeline.defs.resources import ZsRiskPolicy
from zs_risk_pipeline.lib.core.month import Month
from zs_risk_pipeline.lib.features import enterprise_monthly
from zs_risk_pipeline.lib.features.suite import features_suite
from zs_risk_pipeline.lib.monitoring import drift
from zs_risk_pipeline.lib.publish import tables
from zs_risk_pipeline.lib.quality import gates

SPEC = tables.MART_TABLES["enterprise_features"]
FEATURES = dg.AssetKey(["features", "enterprise_monthly"])


@audited_check(
    asset=FEATURES,
    spec=SPEC,
    name="features_quality_suite",
    description=(
        "Great Expectations suite: exact column list, uscc present, unique and well-formed, every indicator "
        "within its documented range and NULL share. Blocks the publish. 特征质量规则（GX）：键唯一、取值范围、空值率。"
    ),
)
def features_quality_suite(conn: duckdb.DuckDBPyConnection, month: str, fp: tables.Fingerprint, run: RunInputs) -> Gate:
    suite = features_suite(enterprise_monthly.indicators())
    return gates.run_suite(tables.month_frame(conn, SPEC, month), "features_quality_suite", suite), {}


@audited_check(
    asset=FEATURES,
    spec=SPEC,
    name="row_count_matches_alive_enterprises",
    description=(
        "One row per enterprise in scope alive at month end, counted independently from the staged registry. "
        "Blocks the publish. 行数核对：特征行数 = 月末存续企业数。"
    ),
)
def row_count_matches_alive_enterprises(
    conn: duckdb.DuckDBPyConnection, month: str, fp: tables.Fingerprint, run: RunInputs
) -> Gate:
    return alive_row_count(conn, month, fp, "row_count_matches_alive_enterprises", run)


@dg.asset_check(
    asset=FEATURES,
    name="indicator_drift_psi",
    blocking=False,
    partitions_def=monthly,
    description=(
        "Month-over-month population stability index of every indicator against the previous month; warns on "
        "significant drift, never blocks. 指标月度漂移（PSI），仅告警。"
    ),
)
def indicator_drift_psi(
    context: dg.AssetCheckExecutionContext, warehouse: DuckDBResource, policy: ZsRiskPolicy
) -> dg.AssetCheckResult:
    drift_policy = policy.load().feature_drift
    month = Month.of(context.partition_key).start
    with warehouse.get_connection() as conn:
        current = tables.month_frame(conn, SPEC, month)
        reference = tables.month_frame(conn, SPEC, Month.of(month).previous().start)
    if reference.empty:
        return dg.AssetCheckResult(
            passed=True, severity=dg.AssetCheckSeverity.WARN, metadata={"note": "no previous month to compare with"}
        )
    kinds = {i.name: i.kind for i in enterprise_monthly.indicators()}
    report = drift.drift_report(
        reference,
        current,
        kinds,
        bins=drift_policy.bins,
        moderate=drift_policy.moderate,
        significant=drift_policy.significant,
    )
    significant = [d for d in report if d.severity == "significant"]
    return dg.AssetCheckResult(
        passed=not significant,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "significant": [d.indicator for d in significant],
            "moderate": [d.indicator for d in report if d.severity == "moderate"],
            "max_psi": report[0].psi if report else 0.0,
            "psi_top10": dg.MetadataValue.md(
                "| indicator | PSI | severity |\n|---|---|---|\n"
                + "\n".join(f"| {d.indicator} | {d.psi:.4f} | {d.severity} |" for d in report[:10])
            ),
        },
    )
