"""Early warnings (风险预警): the month's warnings by the rules of config/warning_rules.yaml, and their audit."""

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource

from zs_risk_pipeline.defs.audit import Gate, RunInputs, audited_check
from zs_risk_pipeline.defs.global_policy import POOL
from zs_risk_pipeline.defs.metadata import table_metadata
from zs_risk_pipeline.defs.partitions import monthly
from zs_risk_pipeline.defs.resources import ZsRiskPolicy
from zs_risk_pipeline.defs.tiers.assets import TIERS
from zs_risk_pipeline.lib.core.month import Month
from zs_risk_pipeline.lib.monitoring import early_warnings as warning_rules
from zs_risk_pipeline.lib.publish import tables
from zs_risk_pipeline.lib.quality import gates

EARLY_WARNINGS = dg.AssetKey(["monitoring", "early_warnings"])
SPEC = tables.MART_TABLES["early_warnings"]
SOURCES = ("registry", "abnormal_list", "dishonest_list", "complaints", "inspections", "licenses")


@dg.asset(
    key=EARLY_WARNINGS,
    deps=[TIERS, *(dg.AssetKey(["staging", s]) for s in SOURCES)],
    group_name="monitoring",
    partitions_def=monthly,
    pool=POOL,
    description=(
        "Early warnings of the month by the rules of config/warning_rules.yaml - tier jump of two or more steps "
        "(tiers of this and the previous month), newly on the abnormal-operation or serious-dishonest list, "
        "complaint spike, unreachable at the registered address, another firm of the same legal representative "
        "turned D, licence expiring unrenewed, frequent registry changes - point in time, for enterprises "
        "tiered in the month: one row per enterprise and rule with severity, evidence (JSON and Chinese) and "
        "suggested action. Warnings on A/B-tier firms feed the trigger queue. Internal. "
        "企业风险预警：分类跃升、新列入名录、投诉骤增、住所无法联系、关联企业风险传导、许可证到期、频繁变更；"
        "低风险企业的预警触发触发式监管；内部参考。"
    ),
)
def early_warnings(
    context: dg.AssetExecutionContext, warehouse: DuckDBResource, policy: ZsRiskPolicy
) -> dg.MaterializeResult:
    month = context.partition_key
    loaded = policy.load()
    rules = dict(loaded.warning_rules)
    with warehouse.get_connection() as conn:
        counts = warning_rules.build_early_warnings(conn, month, rules, loaded)
        by_tier = warning_rules.counts_by_tier(conn, month)
        md = table_metadata(conn, "monitoring", "early_warnings", Month.of(month).start, "month")
    table = "| rule | severity | warnings | to trigger queue |\n|---|---|---|---|\n" + "\n".join(
        f"| {rule} | {severity} | {n:,} | {queued:,} |" for (rule, severity), (n, queued) in counts.items()
    )
    configured = "| rule | enabled | severity | thresholds | 说明 |\n|---|---|---|---|---|\n" + "\n".join(
        f"| {r.name} | {'yes' if r.enabled else 'no'} | {r.severity} | {r.thresholds} | {r.description_zh} |"
        for r in rules.values()
    )
    return dg.MaterializeResult(
        metadata={
            **md,
            "warnings_by_rule": dg.MetadataValue.md(table if counts else "_no warnings this month_"),
            "warnings_by_tier": by_tier,
            "to_trigger_queue": sum(queued for _, queued in counts.values()),
            "rules": dg.MetadataValue.md(configured),
        }
    )


@audited_check(
    asset=EARLY_WARNINGS,
    spec=SPEC,
    name="early_warnings_well_formed",
    description=(
        "Every warning of the month names a known rule and severity, carries evidence that is a JSON object and "
        "a Chinese sentence, is the only row of its (month, enterprise, rule), belongs to an enterprise tiered in "
        "the month with that tier, and feeds the trigger queue exactly when the tier is A or B. Blocks the "
        "publish. 预警记录格式、唯一性及与分类结果一致性校验。"
    ),
)
def early_warnings_well_formed(
    conn: duckdb.DuckDBPyConnection, month: str, fp: tables.Fingerprint, run: RunInputs
) -> Gate:
    violations = warning_rules.well_formed_violations(conn, month)
    result = gates.sql_gate("early_warnings_well_formed", violations, ["uscc", "rule", "problem"], "well_formed")
    return result, {"rows_checked": fp.rows}
