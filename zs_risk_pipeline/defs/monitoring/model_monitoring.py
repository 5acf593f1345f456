"""Model monitoring (模型监测): drift of the score, key indicators and tier mix against a reference month, the
problem-found rate by tier of the latest random inspections, and the blocking tier-ordering check."""

import dagster as dg
import duckdb
import pandas as pd
from dagster_duckdb import DuckDBResource

from zs_risk_pipeline.defs.audit import Gate, RunInputs, audited_check
from zs_risk_pipeline.defs.global_policy import POOL
from zs_risk_pipeline.defs.metadata import floats
from zs_risk_pipeline.defs.partitions import monthly
from zs_risk_pipeline.defs.resources import ZsRiskHome, ZsRiskPolicy
from zs_risk_pipeline.defs.tiers.assets import TIERS
from zs_risk_pipeline.lib.model.registry import Registry
from zs_risk_pipeline.lib.monitoring import model_monitoring as monitoring
from zs_risk_pipeline.lib.monitoring import ordering, report
from zs_risk_pipeline.lib.publish import tables as publish_tables
from zs_risk_pipeline.lib.quality import gates

MODEL_MONITORING = dg.AssetKey(["monitoring", "model_monitoring"])
SPEC = publish_tables.MART_TABLES["enterprise_tiers"]


@dg.asset(
    key=MODEL_MONITORING,
    deps=[
        TIERS,
        dg.AssetKey(["features", "enterprise_monthly"]),
        dg.AssetKey(["staging", "inspections"]),
        dg.AssetKey(["staging", "plans"]),
    ],
    group_name="monitoring",
    partitions_def=monthly,
    pool=POOL,
    description=(
        "Model monitoring of the month in monitoring.model_monitoring: PSI of the score and of the key indicators "
        "of config/monitoring.yaml against the reference month (the month the serving model was promoted, or a "
        "pinned one), whole population on the 0.10 / 0.25 rule and per town and reference tier with a "
        "sample-size-aware threshold; tier-mix shift against the reference and the previous month; problem-found "
        "rate by tier of the random inspections delivered in the latest months, weighted 1/π, with standard "
        "errors; the tier-ordering verdict. Internal: holds tiers. "
        "模型监测：分值与关键指标稳定性（PSI）、分类结构变化、最新双随机抽查结果的分类别问题发现率（按入选概率倒数加权）"
        "及等级排序判定；内部数据。"
    ),
)
def model_monitoring(
    context: dg.AssetExecutionContext, warehouse: DuckDBResource, zs_home: ZsRiskHome, policy: ZsRiskPolicy
) -> dg.MaterializeResult:
    month = context.partition_key
    registry = Registry(zs_home.paths().models)
    with warehouse.get_connection() as conn:
        summary = monitoring.build_model_monitoring(conn, month, policy.load().monitoring, registry)
        frame = monitoring.month_rows(conn, month)
    tables = report.markdown_tables(frame)
    return dg.MaterializeResult(
        metadata={
            "dagster/table_name": "monitoring.model_monitoring",
            "dagster/partition_row_count": summary["rows"],
            "reference_month": summary["reference_month"],
            "reference_why": summary["reference_why"],
            "tier_order_verdict": summary["verdict"],
            "tier_order_note": summary["note"],
            **{name: dg.MetadataValue.md(text) for name, text in tables.items()},
            **floats(plotted(frame)),
        }
    )


def plotted(frame: pd.DataFrame) -> dict[str, float | None]:
    """The month's monitoring numbers the UI plots across months: score PSI and tier-mix PSI against the
    reference (and the previous month), and the weighted problem-found rate of each tier (None where undefined:
    no comparison possible, no inspection of the tier)."""
    if frame.empty:
        return {}
    value = {(r.metric, r.subject): r.value for r in frame.itertuples()}
    score = frame.loc[frame["metric"] == "score_psi", "value"]
    return {
        "score_psi_vs_reference": score.iloc[0] if len(score) else None,
        "tier_mix_psi_vs_reference": value.get(("tier_mix_psi", "vs_reference")),
        "tier_mix_psi_vs_previous": value.get(("tier_mix_psi", "vs_previous")),
        **{f"problem_found_rate_{t}": value.get(("problem_rate", t)) for t in "ABCD"},
    }


def _drift_check(
    context: dg.AssetCheckExecutionContext, warehouse: DuckDBResource, metrics: tuple[str, ...]
) -> dg.AssetCheckResult:
    with warehouse.get_connection() as conn:
        frame = monitoring.month_rows(conn, context.partition_key)
    hits = report.significant_drift(frame, metrics)
    checked = frame[frame["metric"].isin(metrics)] if not frame.empty else frame
    return dg.AssetCheckResult(
        passed=not hits,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "significant": hits,
            "comparisons": len(checked),
            "max_psi": float(checked["value"].max()) if len(checked) and checked["value"].notna().any() else 0.0,
        },
    )


@dg.asset_check(
    asset=MODEL_MONITORING,
    name="score_psi_stable",
    blocking=False,
    partitions_def=monthly,
    description=(
        "Warns when the score distribution moved significantly from the reference month, city-wide (PSI ≥ 0.25) "
        "or in a town or reference-tier stratum (above its sample-size-aware threshold); never blocks. "
        "分值分布显著漂移告警（仅告警）。"
    ),
)
def score_psi_stable(context: dg.AssetCheckExecutionContext, warehouse: DuckDBResource) -> dg.AssetCheckResult:
    return _drift_check(context, warehouse, ("score_psi", "score_psi_stratum"))


@dg.asset_check(
    asset=MODEL_MONITORING,
    name="key_indicators_psi_stable",
    blocking=False,
    partitions_def=monthly,
    description=(
        "Warns when a key indicator of config/monitoring.yaml moved significantly from the reference month "
        "(PSI ≥ 0.25); never blocks. 关键指标显著漂移告警（仅告警）。"
    ),
)
def key_indicators_psi_stable(context: dg.AssetCheckExecutionContext, warehouse: DuckDBResource) -> dg.AssetCheckResult:
    return _drift_check(context, warehouse, ("indicator_psi",))


@dg.asset_check(
    asset=MODEL_MONITORING,
    name="tier_mix_psi_stable",
    blocking=False,
    partitions_def=monthly,
    description=(
        "Warns when the tier mix A/B/C/D shifted significantly against the reference month or the previous "
        "month (PSI ≥ 0.25): the inspection budget depends on it; never blocks. 分类结构显著变化告警（仅告警）。"
    ),
)
def tier_mix_psi_stable(context: dg.AssetCheckExecutionContext, warehouse: DuckDBResource) -> dg.AssetCheckResult:
    return _drift_check(context, warehouse, ("tier_mix_psi",))


@audited_check(
    asset=TIERS,
    spec=SPEC,
    name="latest_results_keep_tier_order",
    description=(
        "The random inspections delivered in the latest months (config/monitoring.yaml), weighted 1/π and "
        "matched with the tier each firm held the month before, find problems more often the riskier the tier: "
        "A < B < C < D. Fails, and blocks the publish of the tiers, only on a statistically significant "
        "inversion (z standard errors); tiers with too few inspections are skipped and months without enough "
        "results pass with a note. 最新抽查结果须保持风险等级排序（显著倒挂则阻断发布）。"
    ),
)
def latest_results_keep_tier_order(
    conn: duckdb.DuckDBPyConnection, month: str, fp: publish_tables.Fingerprint, run: RunInputs
) -> Gate:
    rates, verdict, funnel = ordering.ordering(conn, month, run.policy.monitoring)
    violations = [(f"{p.lower}>{p.higher}", p.difference, p.z) for p in verdict.inversions]
    result = gates.sql_gate("latest_results_keep_tier_order", violations, ["pair", "difference", "z"], "tier_ordering")
    return result, ordering.ordering_detail(rates, verdict, funnel)
