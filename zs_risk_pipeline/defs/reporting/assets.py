"""Reporting group (集市报表): the month's enterprise dimension, inspection results and plan tasks, written into the
warehouse and audited by a blocking check each, so that the publish group can put them into the analysts' mart."""

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource

from zs_risk_pipeline.defs.audit import Gate, RunInputs, audited_check
from zs_risk_pipeline.defs.global_policy import POOL
from zs_risk_pipeline.defs.metadata import table_metadata
from zs_risk_pipeline.defs.partitions import monthly
from zs_risk_pipeline.lib.core.month import Month
from zs_risk_pipeline.lib.publish import tables as mart
from zs_risk_pipeline.lib.quality import gates
from zs_risk_pipeline.lib.reporting import tables

# ingest/deliveries: a month missing an expected source publishes nothing (its blocking check), these included.
_DELIVERIES = dg.AssetKey(["ingest", "deliveries"])
UPSTREAM = {
    "enterprises": [dg.AssetKey(["staging", "registry"]), _DELIVERIES],
    "inspection_results": [dg.AssetKey(["staging", "inspections"]), dg.AssetKey(["staging", "plans"]), _DELIVERIES],
    "inspection_plans": [dg.AssetKey(["sampling", "plan"])],
}
DESCRIPTIONS_ZH = {
    "enterprises": "企业基本信息：月末登记状态（名称、类型、行业、镇街、状态），不含个人信息。",
    "inspection_results": "抽查检查结果：按交付月份，含计划编号、计划名称与类型、检查方式、结果代码。",
    "inspection_plans": "本系统抽取的双随机抽查计划任务：每户一行，含分层总数、抽取数与入选概率，不含种子和检查人员。",
}


def build_reporting_asset(table: tables.ReportingTable) -> tuple[dg.AssetsDefinition, dg.AssetChecksDefinition]:
    spec = mart.MART_TABLES[table.name]
    key = dg.AssetKey(["reporting", table.name])

    @dg.asset(
        key=key,
        deps=UPSTREAM[table.name],
        group_name="reporting",
        partitions_def=monthly,
        pool=POOL,
        description=f"{spec.description}. {DESCRIPTIONS_ZH[table.name]}",
    )
    def _write(context: dg.AssetExecutionContext, warehouse: DuckDBResource) -> dg.MaterializeResult:
        month = context.partition_key
        with warehouse.get_connection() as conn:
            tables.build(conn, table.name, month)
            md = table_metadata(conn, "reporting", table.name, Month.of(month).start, "month")
        return dg.MaterializeResult(metadata=md)

    @audited_check(
        asset=key,
        spec=spec,
        name=table.check_name,
        description=(
            f"The month of reporting.{table.name} is well formed (sql/{tables.check_sql(table.name)}): one row per "
            "key, every source row present, counted independently. Blocks the publish. "
            "报表数据完整性与唯一性校验，阻断发布。"
        ),
    )
    def _check(conn: duckdb.DuckDBPyConnection, month: str, fp: mart.Fingerprint, run: RunInputs) -> Gate:
        violations = tables.violations(conn, table.name, month)
        result = gates.sql_gate(table.check_name, violations, list(table.key_columns), "well_formed")
        return result, {"rows_checked": fp.rows}

    return _write, _check


_built = [build_reporting_asset(t) for t in tables.TABLES.values()]
reporting_assets = [a for a, _ in _built]
reporting_checks = [c for _, c in _built]
