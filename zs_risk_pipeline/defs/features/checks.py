"""Checks on the monthly features (特征校验): two blocking audits that gate the publish, one drift warning."""

from pathlib import Path

import dagster as dg
import yaml
from dagster_duckdb import DuckDBResource

from zs_risk_pipeline.defs.partitions import monthly
from zs_risk_pipeline.lib import drift, features, publish, quality
from zs_risk_pipeline.lib.sql import render
from zs_risk_pipeline.lib.suites.features import features_suite

SPEC = publish.MART_TABLES["enterprise_features"]
FEATURES = dg.AssetKey(["features", "enterprise_monthly"])
CONFIG = Path(__file__).resolve().parents[3] / "config" / "monitoring.yaml"
IDENT = {"schema": SPEC.schema, "table": SPEC.table, "month_column": SPEC.month_column}


@dg.asset_check(
    asset=FEATURES,
    name="features_quality_suite",
    blocking=True,
    partitions_def=monthly,
    description=(
        "Great Expectations suite: exact column list, uscc present, unique and well-formed, every indicator "
        "within its documented range and NULL share. Blocks the publish. 特征质量规则（GX）：键唯一、取值范围、空值率。"
    ),
)
def features_quality_suite(context: dg.AssetCheckExecutionContext, warehouse: DuckDBResource) -> dg.AssetCheckResult:
    month = context.partition_key
    with warehouse.get_connection() as conn:
        publish.prepare(conn)
        fp = publish.fingerprint(conn, SPEC, month)
        df = conn.sql(render("publish/month_rows.sql", IDENT), params={"month": publish.month_date(month)}).df()
        result = quality.run_suite(df, "features_quality_suite", features_suite(features.indicators()))
        publish.record_audit(conn, SPEC, month, "features_quality_suite", fp, result.passed, result.metadata())
    return dg.AssetCheckResult(passed=result.passed, metadata={**result.metadata(), "fingerprint": fp.sha256})


@dg.asset_check(
    asset=FEATURES,
    name="row_count_matches_alive_enterprises",
    blocking=True,
    partitions_def=monthly,
    description=(
        "One row per enterprise in scope alive at month end, counted independently from the staged registry. "
        "Blocks the publish. 行数核对：特征行数 = 月末存续企业数。"
    ),
)
def row_count_matches_alive_enterprises(
    context: dg.AssetCheckExecutionContext, warehouse: DuckDBResource
) -> dg.AssetCheckResult:
    month = context.partition_key
    with warehouse.get_connection() as conn:
        publish.prepare(conn)
        fp = publish.fingerprint(conn, SPEC, month)
        alive = features.alive_count(conn, month)
        violations = [] if fp.rows == alive else [(fp.rows, alive)]
        result = quality.sql_gate(
            "row_count_matches_alive_enterprises", violations, ["feature_rows", "alive"], "row_count"
        )
        detail = {**result.metadata(), "feature_rows": fp.rows, "alive_enterprises": alive}
        publish.record_audit(conn, SPEC, month, "row_count_matches_alive_enterprises", fp, result.passed, detail)
    return dg.AssetCheckResult(passed=result.passed, metadata={**detail, "fingerprint": fp.sha256})


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
def indicator_drift_psi(context: dg.AssetCheckExecutionContext, warehouse: DuckDBResource) -> dg.AssetCheckResult:
    policy = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))["feature_drift"]
    month = publish.month_date(context.partition_key)
    with warehouse.get_connection() as conn:
        current = conn.sql(render("publish/month_rows.sql", IDENT), params={"month": month}).df()
        reference = conn.sql(render("publish/previous_month_rows.sql", IDENT), params={"month": month}).df()
    if reference.empty:
        return dg.AssetCheckResult(
            passed=True, severity=dg.AssetCheckSeverity.WARN, metadata={"note": "no previous month to compare with"}
        )
    kinds = {i.name: i.kind for i in features.indicators()}
    report = drift.drift_report(
        reference, current, kinds, bins=policy["bins"], moderate=policy["moderate"], significant=policy["significant"]
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
