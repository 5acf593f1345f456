"""Effectiveness of the month's inspections (监管效能): problems found per 100 inspections by cut, the city rate from
the city-wide random plans, the lift over it and the share of problem firms reached, and their audit."""

import dagster as dg
import duckdb
import pandas as pd
from dagster_duckdb import DuckDBResource

from zs_risk_pipeline.defs.audit import Gate, RunInputs, audited_check
from zs_risk_pipeline.defs.global_policy import POOL
from zs_risk_pipeline.defs.metadata import floats, table_metadata
from zs_risk_pipeline.defs.partitions import monthly
from zs_risk_pipeline.defs.resources import ZsRiskPolicy
from zs_risk_pipeline.defs.tiers.assets import TIERS
from zs_risk_pipeline.lib.core.month import Month
from zs_risk_pipeline.lib.effectiveness import inspection_effectiveness as effectiveness
from zs_risk_pipeline.lib.publish import tables
from zs_risk_pipeline.lib.quality import gates

INSPECTION_EFFECTIVENESS = dg.AssetKey(["effectiveness", "inspection_effectiveness"])
SPEC = tables.MART_TABLES["inspection_effectiveness"]
_SHOWN = ["cut", "key", "inspections", "problems_found", "per_100", "lift", "rate", "rate_low", "rate_high", "note"]


@dg.asset(
    key=INSPECTION_EFFECTIVENESS,
    deps=[TIERS, dg.AssetKey(["staging", "inspections"]), dg.AssetKey(["staging", "plans"])],
    group_name="effectiveness",
    partitions_def=monthly,
    pool=POOL,
    description=(
        "Effectiveness of the month's inspections, from what is known at its end (inspections dated in the month "
        "and delivered by then, the plans with their inclusion probabilities, the tiers of the month before that "
        "drew the month's plans): problems found per 100 inspections by trigger, plan, department and tier (the "
        "tier when the plan was drawn), and by tier for the random inspections; the problem rate of the city "
        "estimated from the random inspections of the city-wide (publicity-information) plans, weighted 1/π "
        "(Hájek, Korn–Graubard 95 % interval) and post-stratified to the month before's tiers; the lift of every "
        "cut over it at equal budget (the tier-stratified "
        "plans pooled: zs-risk's targeting); the share of the estimated problem firms that the month's "
        "inspections reached. Internal: holds the tiers' rates. "
        "监管效能：按检查方式、计划、部门、风险分类统计每百次检查发现问题数；以全市性双随机计划按入选概率倒数加权估计"
        "全市问题发现率及其置信区间；同等检查量下相对随机抽查的提升倍数；问题企业覆盖率；内部参考。"
    ),
)
def inspection_effectiveness(
    context: dg.AssetExecutionContext, warehouse: DuckDBResource, policy: ZsRiskPolicy
) -> dg.MaterializeResult:
    month = context.partition_key
    with warehouse.get_connection() as conn:
        rows = effectiveness.build_inspection_effectiveness(conn, month, policy.load())
        md = table_metadata(conn, "effectiveness", "inspection_effectiveness", Month.of(month).start, "month")
    return dg.MaterializeResult(
        metadata={
            **md,
            "preview": dg.MetadataValue.md(rows[_SHOWN].to_markdown(index=False, floatfmt=".4g")),
            "city_rate_estimate": city_text(rows),
            **floats(plotted(rows)),
        }
    )


def city_text(rows: pd.DataFrame) -> str:
    """The city estimate in one line, or why there is none."""
    city = rows.loc[rows["cut"] == "city"].iloc[0]
    if pd.isna(city["rate"]):
        return str(city["note"])
    return (
        f"{city['rate']:.1%} [{city['rate_low']:.1%}, {city['rate_high']:.1%}] from {city['inspections']:,} random "
        f"inspections of the city-wide plans in {city['strata']} strata, for {city['population']:,} enterprises "
        f"({city['note']})"
    )


def plotted(rows: pd.DataFrame) -> dict[str, float | None]:
    """The month's numbers Dagster plots across partitions: the inspections and problems found, the city rate
    with its bounds, the tier-stratified plans' lift, the share reached, and per 100 random inspections by tier
    (a tier without random inspections, a month without a city rate: left out)."""
    by = rows.set_index(["cut", "key"])

    def value(cut: str, key: str, column: str) -> float | None:
        return float(by.loc[(cut, key), column]) if (cut, key) in by.index else None

    return {
        "inspections": value("all", "all", "inspections"),
        "problems_found": value("all", "all", "problems_found"),
        "city_rate": value("city", "city-wide plans", "rate"),
        "city_rate_low": value("city", "city-wide plans", "rate_low"),
        "city_rate_high": value("city", "city-wide plans", "rate_high"),
        "targeted_lift": value("targeted", "tier-stratified plans", "lift"),
        "share_reached": value("all", "all", "share_reached"),
        **{f"per_100_random_{t}": value("random_tier", t, "per_100") for t in effectiveness.TIERS},
    }


@audited_check(
    asset=INSPECTION_EFFECTIVENESS,
    spec=SPEC,
    name="inspection_effectiveness_well_formed",
    description=(
        "The month's effectiveness rows are well formed: known cuts, one row per cut and key, the all, targeted "
        "and city rows present; counts non-negative, problems found at most the inspections, per 100 as counted; "
        "rates and shares in [0, 1] and within their intervals, lifts within theirs, the city estimate only on its "
        "row and an empty one with its reason; every cut adding up to the month's inspections (random by tier to "
        "its random ones), which equal those staged for the month, counted independently. Blocks the publish. "
        "监管效能数据格式、区间与汇总一致性校验，阻断发布。"
    ),
)
def inspection_effectiveness_well_formed(
    conn: duckdb.DuckDBPyConnection, month: str, fp: tables.Fingerprint, run: RunInputs
) -> Gate:
    violations = effectiveness.well_formed_violations(conn, month)
    result = gates.sql_gate(
        "inspection_effectiveness_well_formed", violations, ["cut", "key", "problem"], "well_formed"
    )
    return result, {"rows_checked": fp.rows}
