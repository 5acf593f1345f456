"""Tiers group (信用风险分类): every enterprise alive at month end gets a tier A/B/C/D with its reasons."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from zs_risk_pipeline.defs.global_policy import POOL
from zs_risk_pipeline.defs.metadata import floats, table_metadata
from zs_risk_pipeline.defs.model.assets import RISK_MODEL
from zs_risk_pipeline.defs.partitions import monthly
from zs_risk_pipeline.defs.resources import ZsRiskHome, ZsRiskPolicy
from zs_risk_pipeline.lib.core.month import Month
from zs_risk_pipeline.lib.model.registry import Registry
from zs_risk_pipeline.lib.publish import tables
from zs_risk_pipeline.lib.tiers import classify

TIERS = dg.AssetKey(["tiers", "enterprise_monthly"])


@dg.asset(
    key=TIERS,
    deps=[dg.AssetKey(["features", "enterprise_monthly"]), RISK_MODEL],
    group_name="tiers",
    partitions_def=monthly,
    pool=POOL,
    description=(
        "Credit-risk tier A (low) / B (general) / C (higher) / D (high) of every enterprise alive at month end: "
        "score, calibrated probability, PDO points, tier by score and after the hard overrides of "
        "config/tier_policy.yaml, the model version, and the top-3 reasons (LightGBM pred_contrib in points, or "
        "the scorecard's rules). Internal reference data: never published to the public. "
        "企业信用风险分类结果（A低/B一般/C较高/D高）：含分值、概率、强制调整及前三项原因；内部参考，不对外公开。"
    ),
)
def enterprise_monthly(
    context: dg.AssetExecutionContext, warehouse: DuckDBResource, zs_home: ZsRiskHome, policy: ZsRiskPolicy
) -> dg.MaterializeResult:
    month = context.partition_key
    loaded = policy.load()
    with warehouse.get_connection() as conn:
        population = tables.month_frame(conn, tables.MART_TABLES["enterprise_features"], month)
        summary = classify.build_tiers(
            conn,
            month,
            population,
            Registry(zs_home.paths().models),
            loaded.scorecard,
            loaded.tier_policy,
            under=loaded,
        )
        md = table_metadata(conn, "tiers", "enterprise_monthly", Month.of(month).start, "month")
    mix = "| tier | enterprises | share | by score | mean points |\n|---|---|---|---|---|\n" + "\n".join(
        f"| {t} | {summary['tier_counts'][t]:,} | {summary['tier_shares'][t]:.2%} | "
        f"{summary['tier_by_score_shares'][t]:.2%} | {summary['mean_points_by_tier'].get(t, '')} |"
        for t in "ABCD"
    )
    total = sum(summary["tier_counts"].values())
    return dg.MaterializeResult(
        metadata={
            **md,
            "model_version": summary["model_version"],
            "model_kind": summary["model_kind"],
            "tier_counts": summary["tier_counts"],
            "tier_mix": dg.MetadataValue.md(mix),
            "overrides_applied": summary["overrides"],
            # One float per tier, so the UI plots the mix across months (a month without rows has none).
            **floats({f"tier_share_{t}": summary["tier_counts"][t] / total if total else None for t in "ABCD"}),
        }
    )
