"""Features group (特征): the monthly point-in-time indicator table of every enterprise."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from zs_risk_pipeline.defs.global_policy import POOL
from zs_risk_pipeline.defs.metadata import table_metadata
from zs_risk_pipeline.defs.partitions import monthly
from zs_risk_pipeline.defs.resources import ZsRiskPolicy
from zs_risk_pipeline.lib.core.month import Month
from zs_risk_pipeline.lib.features import enterprise_monthly as features


@dg.asset(
    key=["features", "enterprise_monthly"],
    # ingest/deliveries: a month missing an expected source stops here (its blocking check).
    deps=[*(dg.AssetKey(["staging", s]) for s in features.SOURCES), dg.AssetKey(["ingest", "deliveries"])],
    group_name="features",
    partitions_def=monthly,
    pool=POOL,
    description=(
        "One row per enterprise alive at the end of the month with its indicators across the five SAMR "
        "dimensions (basic attributes, dynamic information, supervision, related parties, social evaluation), "
        "point-in-time: only events dated up to the month end and delivered by that month's landing. "
        "Written to the warehouse; analysts see it only after the blocking checks pass and it is published. "
        "企业月度特征：月末存续企业的五维度指标（基础属性、动态信息、监管信息、关联关系、社会评价），"
        "严格时点口径；通过阻断性校验后方可发布。"
    ),
)
def enterprise_monthly(
    context: dg.AssetExecutionContext, warehouse: DuckDBResource, policy: ZsRiskPolicy
) -> dg.MaterializeResult:
    scope = list(policy.load().features.entity_types_in_scope)
    with warehouse.get_connection() as conn:
        rows = features.build_enterprise_monthly(conn, context.partition_key, scope)
        md = table_metadata(conn, "features", "enterprise_monthly", Month.of(context.partition_key).start, "month")
    by_dimension: dict[str, int] = {}
    for ind in features.indicators():
        by_dimension[ind.dimension_zh] = by_dimension.get(ind.dimension_zh, 0) + 1
    return dg.MaterializeResult(
        metadata={
            **md,
            "rows_written": rows,
            "indicators": len(features.indicators()),
            "indicators_by_dimension": by_dimension,
        }
    )
