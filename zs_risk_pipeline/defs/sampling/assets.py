"""Sampling group (双随机抽查): monthly frames by tier and the verifiable draw of each plan with its inspectors."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from zs_risk_pipeline.defs.global_policy import POOL
from zs_risk_pipeline.defs.metadata import table_metadata
from zs_risk_pipeline.defs.partitions import monthly
from zs_risk_pipeline.defs.resources import ZsRiskHome, ZsRiskPolicy
from zs_risk_pipeline.defs.tiers.assets import TIERS
from zs_risk_pipeline.lib.core.month import Month
from zs_risk_pipeline.lib.sampling import amendments, drawing, frames, plan_audit
from zs_risk_pipeline.lib.sampling import task_lists as sampling_task_lists

FRAME = dg.AssetKey(["sampling", "frame"])
PLAN = dg.AssetKey(["sampling", "plan"])


@dg.asset(
    key=FRAME,
    deps=[TIERS, dg.AssetKey(["staging", "inspections"]), dg.AssetKey(["staging", "licenses"])],
    group_name="sampling",
    partitions_def=monthly,
    pool=POOL,
    description=(
        "Per plan of config/sampling_plans.yaml active in the next month: the enterprises it may draw from the "
        "tiers of this month - alive, in scope, not drawn for the same plan this year, A-tier left out of "
        "无事不扰 plans - with stratum (tier), exact per-draw rate, N, n and inclusion probability π. A plan "
        "already published keeps the frame it was drawn from (its package), whatever a rerun recomputes. "
        "Internal: strata are tiers. 双随机抽查对象名录（按风险分类分层，内部；已发布计划的名录不变）。"
    ),
)
def frame(
    context: dg.AssetExecutionContext, warehouse: DuckDBResource, zs_home: ZsRiskHome, policy: ZsRiskPolicy
) -> dg.MaterializeResult:
    month = context.partition_key
    loaded = policy.load()
    configured = list(loaded.sampling_plans)
    with warehouse.get_connection() as conn:
        written = frames.build_frames(conn, configured, month, zs_home.paths().plans, loaded)
    active = {p.id for p in frames.plans_active(configured, month)}
    table = "| plan | active next month | frame |\n|---|---|---|\n" + "\n".join(
        f"| {frames.plan_id(p, month)} | {'yes' if p.id in active else 'no'} | {written[p.id]:,} |" for p in configured
    )
    return dg.MaterializeResult(
        metadata={
            "dagster/partition_row_count": sum(written.values()),
            "plans_active": sorted(active),
            "frames": dg.MetadataValue.md(table),
        }
    )


@dg.asset(
    key=PLAN,
    deps=[FRAME, dg.AssetKey(["staging", "inspectors"]), dg.AssetKey(["staging", "conflicts"])],
    group_name="sampling",
    partitions_def=monthly,
    pool=POOL,
    description=(
        "Draws every plan active next month by draw protocol v1: a secure seed committed before the draw, "
        "SHA-256 keyed selection of n per stratum, two eligible inspectors per task under the workload cap "
        "(unstaffable tasks kept with their reason), and a verification package in $ZS_RISK_HOME/plans/<plan_id>/ "
        "(restricted, outside the mart). A published plan is immutable: a rerun verifies and reloads it; "
        "later information that rules out an assigned inspector becomes an append-only amendment in the package "
        "(exclusions.csv, amendments.csv; design.md §6) while the plan's month is still ahead. "
        "双随机抽取：种子承诺、可验证抽取、检查人员随机匹配；已发布的计划不可更改，新情况以计划变更记录。"
    ),
)
def plan(
    context: dg.AssetExecutionContext, warehouse: DuckDBResource, zs_home: ZsRiskHome, policy: ZsRiskPolicy
) -> dg.MaterializeResult:
    month = context.partition_key
    loaded = policy.load()
    packages = zs_home.paths().plans
    recovered = drawing.sweep_interrupted(packages)
    with warehouse.get_connection() as conn:
        try:
            drawn = drawing.draw_month(conn, loaded.sampling_plans, month, packages, policy=loaded)
        except drawing.PackageInvalid as e:
            raise dg.Failure(description=str(e)) from None
    table = (
        "| plan | frame | drawn | full pair | without | published | amendments (this run) |\n"
        "|---|---|---|---|---|---|---|\n"
        + "\n".join(
            f"| {d.plan_id} | {d.frame:,} | {d.selected:,} | {d.assigned:,} | {d.selected - d.assigned:,} | "
            f"{'now' if d.drawn_now else 'earlier (reloaded)'} | {d.amendments} ({len(d.amended_now)}) |"
            for d in drawn
        )
    )
    amended = [(d.plan_id, a) for d in drawn for a in d.amended_now]
    amended_md = "| plan | enterprise | replaced | replacement | reason | round |\n|---|---|---|---|---|---|\n"
    amended_md += "\n".join(
        f"| {pid} | {a.uscc} | {a.replaced} | {a.replacement or '—'} | {a.reason} | {a.round} |" for pid, a in amended
    )
    for pid, a in amended:
        context.log.info(f"amendment (计划变更) {pid} {a.uscc}: {a.replaced} → {a.replacement or 'nobody'}: {a.reason}")
    return dg.MaterializeResult(
        metadata={
            "dagster/partition_row_count": sum(d.selected for d in drawn),
            "plans": dg.MetadataValue.md(table if drawn else "_no plan draws next month_"),
            "amendments_this_run": len(amended),
            "amendments_recorded": sum(d.amendments for d in drawn),
            "amended_tasks": dg.MetadataValue.md(amended_md if amended else "_no amendment in this run_"),
            "late_facts_not_amended": {d.plan_id: d.late_facts_not_amended for d in drawn if d.late_facts_not_amended},
            "unassigned_reasons": {d.plan_id: d.unassigned for d in drawn if d.unassigned},
            "inspector_eligibility": {d.plan_id: d.eligibility for d in drawn if d.eligibility},
            "seed_commitments": {d.plan_id: d.seed_commitment for d in drawn},
            "packages": dg.MetadataValue.path(str(packages)),
            # What an interrupted earlier draw had left (a package written aside, a half-written seed): removed.
            "recovered": recovered,
        }
    )


@dg.asset_check(
    asset=PLAN,
    name="plan_packages_verify",
    blocking=True,
    partitions_def=monthly,
    description=(
        "Every plan drawn for next month has a verification package that recomputes, from the package alone, "
        "to exactly the published selection, inspector pairs and amendments (draw protocol v1). 抽取结果可复核。"
    ),
)
def plan_packages_verify(
    context: dg.AssetCheckExecutionContext, zs_home: ZsRiskHome, policy: ZsRiskPolicy
) -> dg.AssetCheckResult:
    month = context.partition_key
    packages = zs_home.paths().plans
    problems: dict[str, list[str]] = {}
    checked = []
    for p in frames.plans_active(policy.load().sampling_plans, month):
        pid = frames.plan_id(p, month)
        checked.append(pid)
        found = amendments.verify(packages / pid) if (packages / pid).exists() else ["package missing"]
        if found:
            problems[pid] = found[:5]
    return dg.AssetCheckResult(passed=not problems, metadata={"plans_checked": checked, "problems": problems})


TASK_LISTS = dg.AssetKey(["sampling", "task_lists"])


@dg.asset(
    key=TASK_LISTS,
    deps=[PLAN],
    group_name="sampling",
    partitions_def=monthly,
    kinds={"csv"},
    pool=POOL,
    tags={"layer": "export"},
    description=(
        "Task lists for the branches (分局) that carry out next month's plans: one CSV per branch in UTF-8 and "
        "GB18030, and an Excel workbook <branch>.xlsx (codes as text cells, header frozen and filterable) under "
        "$ZS_RISK_HOME/exports/task_lists/<YYYY-MM>/, with plan, enterprise name and "
        "address, items and inspectors - and no tier, score or draw number; tasks are listed and numbered by town "
        "and USCC, so their order tells nothing of the draw. "
        "各分局检查任务清单（不含风险分类，按镇街、信用代码排序编号）。"
    ),
)
def task_lists(
    context: dg.AssetExecutionContext, warehouse: DuckDBResource, zs_home: ZsRiskHome, policy: ZsRiskPolicy
) -> dg.MaterializeResult:
    folder = zs_home.paths().exports / "task_lists"
    with warehouse.get_connection() as conn:
        plans = policy.load().sampling_plans
        counts = sampling_task_lists.write_task_lists(conn, plans, context.partition_key, folder)
    return dg.MaterializeResult(
        metadata={
            "dagster/partition_row_count": sum(counts.values()),
            "tasks_by_branch": counts,
            "folder": dg.MetadataValue.path(str(folder)),
        }
    )


@dg.asset(
    key=["sampling", "trigger_queue"],
    deps=[TIERS, dg.AssetKey(["staging", "complaints"]), dg.AssetKey(["monitoring", "early_warnings"])],
    group_name="sampling",
    partitions_def=monthly,
    pool=POOL,
    description=(
        "A- and B-tier enterprises with a trigger in the month queued for triggered inspection, separate from "
        "the random plans: one row per enterprise and trigger type - a complaint or report received in the month, "
        "or an early warning of monitoring/early_warnings (with the rules that fired and their highest severity). "
        "触发式监管队列：低风险企业有投诉举报或风险预警时列入。"
    ),
)
def trigger_queue(context: dg.AssetExecutionContext, warehouse: DuckDBResource) -> dg.MaterializeResult:
    with warehouse.get_connection() as conn:
        queued = sampling_task_lists.build_trigger_queue(conn, context.partition_key)
        md = table_metadata(conn, "sampling", "trigger_queue", Month.of(context.partition_key).start, "month")
    return dg.MaterializeResult(metadata={**md, "enterprises_queued": sum(queued.values()), "queued_by_tier": queued})


_AUDIT_TEXT = {
    "sample_sizes": ("plan_id", "stratum", "expected", "drawn"),
    "no_repeat": ("prefix", "year", "uscc", "plans"),
    "pairs": ("plan_id", "uscc_or_inspector", "problem", "detail"),
    "pairs_eligible": ("plan_id", "uscc", "inspector_id"),
    "unrecorded_facts": ("plan_id", "uscc", "inspector_id", "reason"),
}


@dg.asset_check(
    asset=PLAN,
    name="plans_keep_the_protocol_and_constraints",
    blocking=True,
    partitions_def=monthly,
    description=(
        "The month's drawn plans: achieved n equals the protocol's n_h in every stratum; no enterprise twice in "
        "a plan or drawn twice for one plan in a year; every task has two distinct inspectors or its reason; "
        "nobody above the workload cap. Judged by what was known when the plan was drawn plus its recorded "
        "exclusions: every assigned inspector is in the package's eligibility.csv and not excluded, and, while "
        "the plan is still ahead, every fact known now that rules a pair out is recorded (an amendment or an "
        "unstaffed task), never a failed check. "
        "抽取数量、不重复抽取、人员回避与资格、工作量上限核对（按抽取时已知情况与变更记录）。"
    ),
)
def plans_keep_the_protocol_and_constraints(
    context: dg.AssetCheckExecutionContext, warehouse: DuckDBResource, zs_home: ZsRiskHome, policy: ZsRiskPolicy
) -> dg.AssetCheckResult:
    with warehouse.get_connection() as conn:
        plans = policy.load().sampling_plans
        found = plan_audit.audit_month(conn, plans, context.partition_key, zs_home.paths().plans)
    return dg.AssetCheckResult(
        passed=not any(found.values()),
        metadata={
            **{f"{name}_violations": len(rows) for name, rows in found.items()},
            "examples": {
                name: [dict(zip(_AUDIT_TEXT[name], (str(v) for v in row), strict=True)) for row in rows[:5]]
                for name, rows in found.items()
                if rows
            },
        },
    )
