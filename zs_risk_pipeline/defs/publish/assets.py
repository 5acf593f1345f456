"""Publish group (发布): audited months of warehouse tables into the analysts' mart."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from zs_risk_pipeline.defs.global_policy import POOL
from zs_risk_pipeline.defs.partitions import monthly
from zs_risk_pipeline.defs.resources import ZsRiskHome, ZsRiskPolicy
from zs_risk_pipeline.lib.publish import tables, wap


def build_publish_asset(spec: tables.MartTable) -> dg.AssetsDefinition:
    @dg.asset(
        key=["mart", spec.name],
        deps=[dg.AssetKey([spec.schema, spec.table])],
        group_name="publish",
        partitions_def=monthly,
        pool=POOL,
        description=(
            f"Publishes {spec.qualified} to the analysts' mart ($ZS_RISK_HOME/mart/{tables.MART_FILE}, view "
            f"{spec.name}) once its blocking checks ({', '.join(spec.required_checks)}) passed on exactly the rows "
            "in the warehouse; logged (hash chain, Ed25519-signed entry and head) before the file becomes visible, "
            "then swapped in atomically; a crash at any point is recovered by the next run; a re-published month "
            "with changed content "
            f"becomes a new version and earlier versions stay readable ({spec.name}_versions) and verifiable. "
            f"{spec.description}. 发布到分析集市：阻断性校验通过后先记入哈希链发布日志（Ed25519签名），"
            "再原子替换；中断后下次运行自动恢复；"
            "重发布形成新版本，旧版本保留可核验。"
        ),
    )
    def _publish(
        context: dg.AssetExecutionContext, warehouse: DuckDBResource, zs_home: ZsRiskHome, policy: ZsRiskPolicy
    ) -> dg.MaterializeResult:
        mart_dir = zs_home.paths().mart
        with warehouse.get_connection() as conn:
            try:
                result = wap.publish_month(conn, spec, context.partition_key, mart_dir, policy=policy.load())
            except tables.PublishRefused as e:
                raise dg.Failure(description=str(e)) from None
        return dg.MaterializeResult(
            metadata={
                "dagster/partition_row_count": result.rows,
                "file": dg.MetadataValue.path(str(result.file)),
                "file_sha256": result.file_sha256,
                "publish_log_entry": result.entry_hash,
                "version": result.version,
                "version_file": dg.MetadataValue.path(str(result.version_file)),
                "unchanged": result.unchanged,
                # What an interrupted earlier publish had left and what became of it (adopted, restored, removed).
                "recovered": dg.MetadataValue.md(
                    "\n".join(f"- {r}" for r in result.recovered) if result.recovered else "_nothing to recover_"
                ),
                "recovered_count": len(result.recovered),
                "code_version": result.context.get("code", {}).get("source_sha256", ""),
                "mart": dg.MetadataValue.path(str(mart_dir / tables.MART_FILE)),
                "how_to_read": dg.MetadataValue.md(
                    f"`duckdb -readonly {mart_dir / tables.MART_FILE}` then "
                    f"`SELECT * FROM {spec.name} WHERE month = DATE '{context.partition_key}' LIMIT 10;`"
                ),
            }
        )

    return _publish


publish_assets = [build_publish_asset(spec) for spec in tables.MART_TABLES.values()]
