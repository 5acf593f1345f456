"""Dynamic ratios under capacity (动态调整抽查比例和频次): the month's proposal of per-plan, per-tier annual ratios,
and its blocking check. A proposal never changes a published plan: nothing downstream reads it; operators adopt it
by editing config/sampling_plans.yaml."""

import math

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource

from zs_risk_pipeline.defs.audit import Gate, RunInputs, audited_check
from zs_risk_pipeline.defs.global_policy import POOL
from zs_risk_pipeline.defs.metadata import floats, table_metadata
from zs_risk_pipeline.defs.partitions import monthly
from zs_risk_pipeline.defs.resources import ZsRiskHome, ZsRiskPolicy
from zs_risk_pipeline.defs.sampling.assets import FRAME
from zs_risk_pipeline.defs.tiers.assets import TIERS
from zs_risk_pipeline.lib.core.month import Month
from zs_risk_pipeline.lib.publish import tables
from zs_risk_pipeline.lib.quality import gates
from zs_risk_pipeline.lib.sampling import allocation as solver
from zs_risk_pipeline.lib.sampling import proposals

ALLOCATION = dg.AssetKey(["sampling", "allocation"])
SPEC = tables.AUDITED_TABLES["allocation"]
SOURCES = ("inspections", "plans", "inspectors")


def _number(value: float, digits: int = 1) -> str:
    return "—" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:,.{digits}f}"


def _proposal_md(proposal: proposals.Proposal) -> str:
    head = (
        "| plan | tier | N | inspections known | rate used | basis | ratio now | proposed | binding | "
        "inspections now → proposed | problems now → proposed |\n|---|---|---|---|---|---|---|---|---|---|---|\n"
    )
    return head + "\n".join(
        f"| {r.plan_id} | {r.tier} | {r.frame_size:,} | {r.inspections_known:,} | {_number(r.rate_used, 3)} | "
        f"{r.rate_basis} | {' | '.join(proposal.ratios[(r.plan_id, r.tier)])} | {r.binding} | "
        f"{_number(r.inspections_current)} → {_number(r.inspections_proposed)} | "
        f"{_number(r.expected_current)} → {_number(r.expected_proposed)} |"
        for r in proposal.rows.itertuples()
    )


def _capacity_md(proposal: proposals.Proposal) -> str:
    used = proposal.rows.groupby("plan_id")[["inspections_current", "inspections_proposed"]].sum()
    head = (
        "| department | plan | inspectors | capacity a year | budget a year | inspections now | proposed | used |\n"
        "|---|---|---|---|---|---|---|---|\n"
    )
    lines = []
    for pid, cap in proposal.capacities.items():
        if pid in proposal.unstaffable:  # its floors alone need more than its inspectors can staff
            lines.append(
                f"| {cap.department} | {pid} | {cap.inspectors:,} | {cap.per_year:,} | — | — | no proposal | — |"
            )
        if pid not in used.index:
            continue
        budget = float(proposal.rows.loc[proposal.rows["plan_id"] == pid, "budget"].iloc[0])
        now, proposed = used.loc[pid]
        share = proposed / cap.per_year if cap.per_year else math.nan
        lines.append(
            f"| {cap.department} | {pid} | {cap.inspectors:,} | {cap.per_year:,} | {_number(budget)} | "
            f"{_number(now)} | {_number(proposed)} | {_number(100 * share)} % |"
        )
    return head + "\n".join(lines)


def _frontier_md(proposal: proposals.Proposal) -> str:
    head = "| step | inspections a year | problems expected | per further inspection |\n|---|---|---|---|\n"
    return head + "\n".join(
        f"| {r.step} | {_number(r.budget)} | {_number(r.expected_findings)} | {_number(r.marginal_findings, 4)} |"
        for r in proposal.frontier.itertuples()
    )


@dg.asset(
    key=ALLOCATION,
    deps=[FRAME, TIERS, *(dg.AssetKey(["staging", s]) for s in SOURCES)],
    group_name="sampling",
    partitions_def=monthly,
    pool=POOL,
    description=(
        "Dynamic ratios under capacity: for every plan drawing next month and every tier of its frame, the annual "
        "ratio that finds the most problems (linear programme, scipy HiGHS) within what the plan's inspectors can "
        "staff (department, active, certified, qualified; × workload cap ÷ 2 × draws a year), the legal floor of the "
        "publicity plan (3 % of every tier), every firm's minimum chance, the 无事不扰 cap of tier A and a bounded "
        "change from the configured ratio, on problem-found rates from the random inspections (1/π, shrunk toward "
        "the tier's city-wide rate: config/allocation.yaml). Writes sampling.allocation (one row per plan and tier), "
        "sampling.allocation_frontier (problems expected against inspections a year), and under "
        "$ZS_RISK_HOME/reports/allocation/<YYYY-MM>/ the proposal in the shape of config/sampling_plans.yaml and "
        "the frontier as SVG. A proposal only: operators adopt it by editing the config; a published plan never "
        "changes. Internal: strata are tiers. "
        "动态调整抽查比例和频次建议（在检查力量、法定下限、最低抽查概率与无事不扰上限内预期发现问题最多；"
        "仅供参考，须经人工修改配置采纳；内部）。"
    ),
)
def allocation(
    context: dg.AssetExecutionContext, warehouse: DuckDBResource, zs_home: ZsRiskHome, policy: ZsRiskPolicy
) -> dg.MaterializeResult:
    month = context.partition_key
    loaded = policy.load()
    with warehouse.get_connection() as conn:
        try:
            proposal = proposals.build_allocation(conn, loaded.sampling_plans, month, zs_home.paths().reports, loaded)
        except solver.AllocationError as e:
            raise dg.Failure(description=str(e)) from None
        md = table_metadata(conn, "sampling", "allocation", Month.of(month).start, "month")
    for reason in proposal.unstaffable.values():
        context.log.warning(f"allocation {Month.of(month).label}: {reason}")
    if proposal.note:
        context.log.info(f"allocation {Month.of(month).label}: {proposal.note}")
    metadata: dict[str, object] = {
        **md,
        **floats(
            {
                "expected_findings_current": proposal.expected_current,
                "expected_findings_proposed": proposal.expected_proposed,
                "expected_gain": proposal.gain,
                "expected_gain_pct": 100 * proposal.gain_share,
                "inspections_current": proposal.rows["inspections_current"].sum() if len(proposal.rows) else None,
                "inspections_proposed": proposal.rows["inspections_proposed"].sum() if len(proposal.rows) else None,
            }
        ),
        "ratios_changed": len(proposal.changed),
        "note": proposal.note or "—",
        # Plans whose floors alone need more inspections than their inspectors can staff: no proposal.
        "plans_without_proposal": dict(proposal.unstaffable),
    }
    if len(proposal.rows):
        metadata["proposal"] = dg.MetadataValue.md(_proposal_md(proposal))
    if proposal.capacities:
        # Per department and plan: a plan's draw staffs it from its own qualified inspectors under its own cap.
        metadata["capacity_used"] = dg.MetadataValue.md(_capacity_md(proposal))
    if len(proposal.frontier):
        metadata["frontier"] = dg.MetadataValue.md(_frontier_md(proposal))
    for name, path in proposal.reports.items():
        metadata[name] = dg.MetadataValue.path(str(path))
    return dg.MaterializeResult(metadata=metadata)


@audited_check(
    asset=ALLOCATION,
    spec=SPEC,
    name="allocation_keeps_floors_caps_and_capacity",
    description=(
        "Every proposed ratio of the month keeps its floor (the legal floor of the publicity plan, every firm's "
        "minimum chance) and its cap (无事不扰), lies in [0, 1] and is the only row of its plan and tier; every plan's "
        "proposed inspections stay within what its department's qualified inspectors can staff and within its "
        "budget. 抽查比例建议不低于法定下限与最低抽查概率、不高于无事不扰上限，且不超出检查力量。"
    ),
)
def allocation_keeps_floors_caps_and_capacity(
    conn: duckdb.DuckDBPyConnection, month: str, fp: tables.Fingerprint, run: RunInputs
) -> Gate:
    violations = proposals.violations(conn, month)
    result = gates.sql_gate(
        "allocation_keeps_floors_caps_and_capacity", violations, ["plan_id", "tier", "problem"], "bounds"
    )
    return result, {"rows_checked": fp.rows}
