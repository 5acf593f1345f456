"""Checks on the monthly tiers (分类结果校验): blocking audits that gate the publish, and a share warning."""

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource

from zs_risk_pipeline.defs.audit import Gate, RunInputs, alive_row_count, audited_check
from zs_risk_pipeline.defs.partitions import monthly
from zs_risk_pipeline.defs.resources import ZsRiskPolicy
from zs_risk_pipeline.defs.tiers.assets import TIERS
from zs_risk_pipeline.lib.model.registry import Registry
from zs_risk_pipeline.lib.publish import tables
from zs_risk_pipeline.lib.quality import gates
from zs_risk_pipeline.lib.tiers import classify, tier_policy
from zs_risk_pipeline.lib.tiers.suite import tiers_suite

SPEC = tables.MART_TABLES["enterprise_tiers"]


@audited_check(
    asset=TIERS,
    spec=SPEC,
    name="tiers_quality_suite",
    description=(
        "Great Expectations suite: uscc unique and well formed, tier and tier-by-score in A-D, probability in "
        "[0, 1], points and model version on every row, a reason wherever the model scored. Blocks the publish. "
        "分类结果质量规则（GX）。"
    ),
)
def tiers_quality_suite(conn: duckdb.DuckDBPyConnection, month: str, fp: tables.Fingerprint, run: RunInputs) -> Gate:
    return gates.run_suite(tables.month_frame(conn, SPEC, month), "tiers_quality_suite", tiers_suite()), {}


@audited_check(
    asset=TIERS,
    spec=SPEC,
    name="one_tier_per_alive_enterprise",
    description=(
        "Exactly one tier for every enterprise in scope alive at month end, counted independently from the "
        "staged registry. Blocks the publish. 每户存续企业有且仅有一个分类。"
    ),
)
def one_tier_per_alive_enterprise(
    conn: duckdb.DuckDBPyConnection, month: str, fp: tables.Fingerprint, run: RunInputs
) -> Gate:
    return alive_row_count(conn, month, fp, "one_tier_per_alive_enterprise", run)


@audited_check(
    asset=TIERS,
    spec=SPEC,
    name="serving_model_verified",
    uses_home=True,
    description=(
        "Every tier of the month was scored by the model the registry says serves the month (or the current "
        "scorecard during cold start), and that model file's SHA-256 matches the registry: a replaced or altered "
        "model blocks the publish. 模型文件哈希与注册表一致，分类由在役模型产生。"
    ),
)
def serving_model_verified(conn: duckdb.DuckDBPyConnection, month: str, fp: tables.Fingerprint, run: RunInputs) -> Gate:
    problems, detail = classify.serving_problems(conn, month, Registry(run.paths.models), run.policy.scorecard)
    return gates.sql_gate("serving_model_verified", [(p,) for p in problems], ["problem"], "model_hash"), detail


@audited_check(
    asset=TIERS,
    spec=SPEC,
    name="holdout_problem_rate_increasing",
    uses_home=True,
    description=(
        "On the holdout of the serving model, the weighted problem-found rate of its tiers by score rises strictly "
        "A < B < C < D (the rates after the hard overrides are reported beside). Blocks the publish. "
        "留出样本上检查发现问题率随风险等级严格递增。"
    ),
)
def holdout_problem_rate_increasing(
    conn: duckdb.DuckDBPyConnection, month: str, fp: tables.Fingerprint, run: RunInputs
) -> Gate:
    passed, detail = classify.holdout_ordering(Registry(run.paths.models), month)
    violations = [] if passed else [(str(detail.get("holdout_problem_rate_by_tier")),)]
    return gates.sql_gate("holdout_problem_rate_increasing", violations, ["rates"], "tier_ordering"), detail


@dg.asset_check(
    asset=TIERS,
    name="tier_shares_within_tolerance",
    blocking=False,
    partitions_def=monthly,
    description=(
        "Tier shares after the hard overrides stay within the policy's tolerance of its target shares (only "
        "for the target-shares method); overrides can move firms, so this warns and never blocks. "
        "分类占比与目标占比的偏差在容差内（仅告警）。"
    ),
)
def tier_shares_within_tolerance(
    context: dg.AssetCheckExecutionContext, warehouse: DuckDBResource, policy: ZsRiskPolicy
) -> dg.AssetCheckResult:
    with warehouse.get_connection() as conn:
        frame = tables.month_frame(conn, SPEC, context.partition_key)
    report = tier_policy.share_report(frame["tier"].to_numpy(), policy.load().tier_policy)
    return dg.AssetCheckResult(passed=report["within"], severity=dg.AssetCheckSeverity.WARN, metadata=report)
