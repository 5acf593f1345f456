"""The month's expected deliveries (月度数据交付核查): a month missing a source is not published."""

import dagster as dg
from dagster_duckdb import DuckDBResource
from pydantic import Field

from zs_risk_pipeline.defs.global_policy import POOL
from zs_risk_pipeline.defs.partitions import monthly
from zs_risk_pipeline.defs.resources import ZsRiskPolicy
from zs_risk_pipeline.lib.ingest import deliveries
from zs_risk_pipeline.lib.ingest.contract import sources

DELIVERIES = dg.AssetKey(["ingest", "deliveries"])


class ReleaseConfig(dg.Config):
    """An operator's release of a month whose expected sources have not delivered (放行)."""

    release_reason: str = Field(
        default="",
        description="Why the month may be published although sources are missing (recorded in the publish log).",
    )


@dg.asset(
    key=DELIVERIES,
    deps=[dg.AssetKey(["raw", s]) for s in sources()],
    group_name="ingest",
    partitions_def=monthly,
    pool=POOL,
    tags={"layer": "raw"},
    description=(
        "Checks the month's landing against config/deliveries.yaml: every source expected every month delivered a "
        "readable file (with rows, unless the source may legitimately be empty). A month with a missing source is "
        "not built further (no features, tiers, plans or publish) until it is delivered or an operator releases it "
        "with a reason (run config release_reason; zs-risk run --release-missing), which is recorded in "
        "audit.deliveries and the publish log. "
        "月度数据交付核查：缺少应交付的数据源时不发布、不生成抽查计划，除非经办人注明原因放行。"
    ),
)
def deliveries_asset(
    context: dg.AssetExecutionContext, config: ReleaseConfig, warehouse: DuckDBResource, policy: ZsRiskPolicy
) -> dg.MaterializeResult:
    with warehouse.get_connection() as conn:
        found = deliveries.check_month(
            conn, context.partition_key, policy.load().deliveries, config.release_reason, context.run_id
        )
    for m in found.missing:
        context.log.warning(f"missing delivery: {m.message()}")
    table = "| source | files | rows | rejected files |\n|---|---|---|---|\n" + "\n".join(
        f"| {s} | {d['files']} | {d['rows']:,} | {d['rejected']} |" for s, d in sorted(found.delivered.items())
    )
    return dg.MaterializeResult(
        metadata={
            "missing_sources": [m.message() for m in found.missing],
            "missing_count": len(found.missing),
            "released": found.released,
            "release_reason": found.release_reason or "",
            "delivered": dg.MetadataValue.md(table if found.delivered else "_nothing delivered this month_"),
        }
    )


@dg.asset_check(
    asset=DELIVERIES,
    name="expected_sources_delivered",
    blocking=True,
    partitions_def=monthly,
    description=(
        "Every source that config/deliveries.yaml expects every month has delivered, or an operator released the "
        "month with a reason; otherwise nothing of the month is built further. "
        "应交付数据源均已交付（或已注明原因放行）。"
    ),
)
def expected_sources_delivered(
    context: dg.AssetCheckExecutionContext, warehouse: DuckDBResource
) -> dg.AssetCheckResult:
    with warehouse.get_connection() as conn:
        found = deliveries.latest(conn, context.partition_key)
    if found is None:
        return dg.AssetCheckResult(passed=False, metadata={"problem": "the month's deliveries were never checked"})
    messages = [f"{m['source']}: {m['problem']} in {m['folder']}" for m in found["missing"]]
    return dg.AssetCheckResult(
        passed=not messages or found["released"],
        description=(
            ("released: " + found["release_reason"] + "; missing " if found["released"] else "missing ")
            + "; ".join(messages)
            if messages
            else "every expected source delivered"
        ),
        metadata={
            "missing_sources": messages,
            "released": found["released"],
            "release_reason": found["release_reason"] or "",
        },
    )
