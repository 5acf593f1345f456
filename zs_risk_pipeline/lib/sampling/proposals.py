"""Monthly proposals of dynamic ratios under capacity (动态调整抽查比例和频次): for the plans of M+1, the per-tier
annual ratios that find the most problems within each plan's inspector capacity, floors and caps, solved by the
linear programme of lib/sampling/allocation.py.

For tier month M, every plan of config/sampling_plans.yaml that draws in M+1 (frames.plans_active) and every tier of
its frame of M with a configured ratio for M+1 is a stratum:

- population: the enterprises a year its annual ratio r applies to. The frame of M has N of them, fewer than the
  tier holds: firms the plan drew earlier in the year are out of it. The draw turns r into the rate of batch b + 1
  of k (frames.per_draw_rate: r / (k − b r) of what the b earlier batches left), which is r of a steady population
  over the year; read back, the frame of that batch is N = population × (k − b r) / k, so population = N k / (k − b r)
  and a ratio x means population × x inspections a year.
- rate: the plan × tier problem-found rate (Hájek, 1/π; lib/effectiveness/estimates.py) of the plan's random
  inspections of the last `window_months` months known by M, each in the tier its enterprise held the month before
  (as the model's labels), made conservative as config/allocation.yaml says: shrunk toward the tier's city-wide rate
  (all random plans) with the weight of `prior_inspections` inspections against the plan's own at their effective
  number (the default; a stratum without inspections gets its tier's rate), or the lower end of its Korn–Graubard
  interval. A tier without any random inspection has no rate: its ratio is held where it is configured.
- floor: `min_ratio` (every firm's minimum chance), and the legal floor of 3 % of every tier for the publicity-
  information plan; cap: `tier_caps` (无事不扰 for A); at most `max_change` from the configured ratio. A configured
  ratio above its cap comes down to it; a floor wins over everything.
- capacity group: the plan. Its capacity, in inspections a year: the inspectors its draw may pair (the directory
  known by M: of its department, active, certificate valid through M+1, qualified for every item:
  eligibility.inspector_pool) × its workload_cap ÷ 2, since every task takes two inspectors (and none can be staffed
  with fewer than two), × its draws a year. Per plan, not pooled over the department: the workload cap is a plan's,
  and the draw staffs each plan from its own qualified inspectors. A tier drawn in fewer batches than its plan
  (MR-SPECEQ's A, June only) counts with its inspections of the year, against the year's capacity.
- budget: what the proposal may use per plan. `current`: no more than the configured ratios use (the floors if they
  need more), within capacity - the gain is what reallocating the same inspections finds; `capacity`: all of it.

A plan whose floors alone need more inspections than its inspectors can staff gets no proposal, and the reason
names its department (`Proposal.unstaffable`): no ratios keep its floors, and its draw will report the tasks it
cannot staff; an advisory output does not stop the month for it. Proposed ratios are exact decimals in steps of
0.1 percentage point, rounded down so that no capacity is exceeded (or exactly a bound); a plan whose rounded
proposal would find less than its configured ratios keeps them.

`build_allocation` writes sampling.allocation and sampling.allocation_frontier (the most problems expected at each
budget, from the floors to the capacity) for the month in one transaction, and the reports under
reports/allocation/<YYYY-MM>/: sampling_plans.yaml (the policy's file with only the proposed ratios changed, for
an operator to adopt) and frontier.svg. Nothing is adopted by itself; a published plan never changes.

Plain Python, no Dagster.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import yaml

from zs_risk_pipeline.lib.core.db import transaction
from zs_risk_pipeline.lib.core.files import write_private
from zs_risk_pipeline.lib.core.month import Month
from zs_risk_pipeline.lib.core.sql import delete_month, load_sql, run_sql, table_exists
from zs_risk_pipeline.lib.effectiveness import estimates
from zs_risk_pipeline.lib.policy import base, versions
from zs_risk_pipeline.lib.policy.allocation import AllocationPolicy, RateEstimation
from zs_risk_pipeline.lib.policy.folder import Policy
from zs_risk_pipeline.lib.policy.sampling_plans import SamplingPlansFile
from zs_risk_pipeline.lib.sampling import allocation, eligibility, frames, plan_policy

TABLE = "sampling.allocation"
FRONTIER_TABLE = "sampling.allocation_frontier"
RATIO_STEP = Decimal("0.001")  # proposals in steps of 0.1 percentage point, as an operator writes a ratio
TOLERANCE = 1e-6  # inspections a year: the solver's rounding, which the check allows
PROPOSAL_FILE = "sampling_plans.yaml"
PLOT_FILE = "frontier.svg"
COLUMNS = (
    "month",
    "plan_id",
    "department",
    "tier",
    "frame_size",
    "population",
    "inspections_known",
    "rate_estimate",
    "rate_low",
    "rate_high",
    "rate_used",
    "rate_basis",
    "current_ratio",
    "floor",
    "floor_basis",
    "cap",
    "proposed_ratio",
    "inspections_current",
    "inspections_proposed",
    "expected_current",
    "expected_proposed",
    "inspectors",
    "capacity",
    "budget",
    "binding",
    "policy_version",
)
_SNAP = Decimal("1e-9")  # a solver value this close to an exact bound is that bound


@dataclass(frozen=True)
class PlanCapacity:
    """What a plan's inspectors can staff (检查力量)."""

    plan_id: str
    department: str
    snapshot_month: dt.date | None  # the directory in force; None: none delivered by M
    inspectors: int  # of its department, active, certified through M+1, qualified for every item
    workload_cap: int  # tasks per inspector in one monthly plan
    batches: int  # the plan's draws a year

    @property
    def per_batch(self) -> int:
        """Tasks of one draw: two distinct inspectors a task, each at most workload_cap tasks."""
        return self.inspectors * self.workload_cap // 2 if self.inspectors >= 2 else 0

    @property
    def per_year(self) -> int:
        return self.per_batch * self.batches


@dataclass(frozen=True)
class Proposal:
    """The month's proposal: sampling.allocation's rows, the frontier, the capacities and the exact ratios."""

    month: dt.date  # the tier month M
    rows: pd.DataFrame  # COLUMNS, one row per plan and tier
    frontier: pd.DataFrame  # step, budget, expected_findings, marginal_findings
    capacities: dict[str, PlanCapacity]  # by plan_id
    ratios: dict[tuple[str, str], tuple[str, str]]  # (plan_id, tier) → (configured as written, proposed) decimals
    note: str = ""  # why nothing could be proposed, what was held
    unstaffable: dict[str, str] = field(default_factory=dict)  # plan_id → why it has no proposal (floors > capacity)
    reports: dict[str, Path] = field(default_factory=dict)  # written by build_allocation

    @property
    def expected_current(self) -> float:
        """Problems expected a year at the configured ratios (NaN: no stratum has a rate)."""
        return float(self.rows["expected_current"].sum(min_count=1)) if len(self.rows) else math.nan

    @property
    def expected_proposed(self) -> float:
        return float(self.rows["expected_proposed"].sum(min_count=1)) if len(self.rows) else math.nan

    @property
    def gain(self) -> float:
        return self.expected_proposed - self.expected_current

    @property
    def gain_share(self) -> float:
        """The gain over the configured ratios' expected findings (0.1 = 10 % more problems found)."""
        return self.gain / self.expected_current if self.expected_current > 0 else math.nan

    @property
    def changed(self) -> dict[tuple[str, str], tuple[str, str]]:
        return {k: v for k, v in self.ratios.items() if Decimal(v[0]) != Decimal(v[1])}


# --- the strata ---------------------------------------------------------------------------------------------


def exact_bounds(floor: Decimal, cap: Decimal, current: Decimal, max_change: Decimal) -> tuple[Decimal, Decimal]:
    """The lowest and highest ratio of a stratum, exactly as allocation._bounds computes them in floats: the cap wins
    over the change bound, the floor over both."""
    low = max(floor, min(current - max_change, cap), Decimal(0))
    return low, max(min(cap, current + max_change, Decimal(1)), low)


def population(frame_size: int, rule: plan_policy.TierRule, calendar_month: int) -> float:
    """The enterprises a year a tier's annual ratio applies to, from its frame of the batch drawn in calendar_month:
    N k / (k − b r), b the tier's batches earlier in the year (see the module's docstring)."""
    k = len(rule.months)
    b = rule.months.index(calendar_month)
    return float(Decimal(frame_size) * k / (k - b * Decimal(rule.ratio)))


def plan_capacity(conn: duckdb.DuckDBPyConnection, plan: plan_policy.SamplingPlan, month: dt.date) -> PlanCapacity:
    snapshot, pool = eligibility.inspector_pool(conn, plan, month)
    return PlanCapacity(
        plan_id=frames.plan_id(plan, month),
        department=plan.department,
        snapshot_month=snapshot,
        inspectors=pool,
        workload_cap=plan.workload_cap,
        batches=len(plan.months),
    )


def _hajek(rows: pd.DataFrame, index: np.ndarray | None, confidence: float) -> estimates.RateEstimate | None:
    if index is None or not len(index):
        return None
    part = rows.iloc[index]
    return estimates.hajek_rate(
        part["found"].to_numpy(), part["pi"].to_numpy(), part["plan_id"].to_numpy(), confidence=confidence
    )


def conservative_rate(
    own: estimates.RateEstimate | None, tier: estimates.RateEstimate | None, settings: RateEstimation
) -> tuple[float | None, str]:
    """The rate a stratum is allocated on and where it comes from (plan_tier | tier | none), from the estimate of the
    plan's own inspections of the tier and that of the tier's city-wide ones (None: too few to estimate from)."""
    if tier is None:
        return None, "none"
    if settings.method == "shrinkage":
        if own is None:
            return tier.rate, "tier"
        # Beta-binomial: the tier's rate as prior_inspections inspections, the plan's at their effective number.
        n = estimates.effective_size(own.rate, own.se, own.n)
        m = settings.prior_inspections
        return (own.rate * n + m * tier.rate) / (n + m), "plan_tier"
    return (own.low, "plan_tier") if own is not None else (tier.low, "tier")


def _random_inspections(conn: duckdb.DuckDBPyConnection, month: Month, window_months: int) -> pd.DataFrame:
    params = {"month": month.start, "month_end": month.end, "window_start": month.shift(1 - window_months).start}
    run_sql(conn, "intermediate/random_plans.sql")
    return conn.execute(load_sql("intermediate/sampling.allocation.sql#random_inspections"), params).df()


def assemble_strata(
    conn: duckdb.DuckDBPyConnection,
    plans: Sequence[plan_policy.SamplingPlan],
    month: str | dt.date,
    settings: AllocationPolicy,
) -> tuple[pd.DataFrame, dict[str, PlanCapacity]]:
    """The strata of tier month M (one row per plan drawing in M+1 and tier of its frame with a configured ratio),
    with population, rates, floor, cap and exact bounds, and the capacity of every plan drawing in M+1."""
    m = Month.of(month)
    calendar_month = frames.plan_month(m.start).month
    sizes = {
        (pid, tier): int(n)
        for pid, tier, n in run_sql(conn, "intermediate/sampling.allocation.sql#frame_sizes", {"month": m.start})
    }
    found = _random_inspections(conn, m, settings.rates.window_months)
    by_stratum = found.groupby(["plan", "tier"]).indices if len(found) else {}
    by_tier = found.groupby("tier").indices if len(found) else {}
    confidence = settings.rates.confidence
    tier_rates = {t: _hajek(found, by_tier.get(t), confidence) for t in plan_policy.TIERS}
    # A tier measured by too few inspections city-wide gives no rate to allocate on, nor a prior to shrink toward.
    tier_rates = {
        t: e if e is not None and e.n >= settings.rates.min_inspections else None for t, e in tier_rates.items()
    }
    rows, capacities = [], {}
    for plan in frames.plans_active(plans, m.start):
        pid = frames.plan_id(plan, m.start)
        capacities[pid] = plan_capacity(conn, plan, m.start)
        floor, floor_basis = settings.min_ratio, "min_ratio"
        if plan.publicity and floor < plan_policy.PUBLICITY_FLOOR:
            floor, floor_basis = plan_policy.PUBLICITY_FLOOR, "legal_floor"
        for tier in plan_policy.TIERS:
            rule = plan.tiers.get(tier)
            n = sizes.get((pid, tier), 0)
            if rule is None or calendar_month not in rule.months or n == 0:
                continue  # not drawn in M+1 (or a published frame the policy no longer draws): nothing to propose
            own = _hajek(found, by_stratum.get((plan.id, tier)), confidence)
            used, basis = conservative_rate(own, tier_rates[tier], settings.rates)
            current, cap = Decimal(rule.ratio), settings.tier_caps[tier]
            low, high = exact_bounds(floor, cap, current, settings.max_change)
            rows.append(
                {
                    "plan_id": pid,
                    "department": plan.department,
                    "tier": tier,
                    "frame_size": n,
                    "population": population(n, rule, calendar_month),
                    "inspections_known": 0 if own is None else own.n,
                    "rate_estimate": math.nan if own is None else own.rate,
                    "rate_low": math.nan if own is None else own.low,
                    "rate_high": math.nan if own is None else own.high,
                    "rate_used": math.nan if used is None else used,
                    "rate_basis": basis,
                    "current": current,
                    "current_text": rule.ratio,  # as the operator wrote it
                    "floor_exact": floor,
                    "floor_basis": floor_basis,
                    "cap_exact": cap,
                    "low": low,
                    "high": high,
                }
            )
    return pd.DataFrame(rows), capacities


# --- the proposal -------------------------------------------------------------------------------------------


def _exact_ratio(x: float, low: Decimal, high: Decimal) -> Decimal:
    """A solver value as the exact ratio an operator writes: a bound it sits on, else rounded down to RATIO_STEP
    (never more inspections than the solver used), never outside the bounds."""
    value = Decimal(x).quantize(_SNAP, rounding=ROUND_HALF_EVEN)
    for bound in (low, high):
        if abs(value - bound) <= _SNAP:
            return bound
    return min(max(value.quantize(RATIO_STEP, rounding=ROUND_FLOOR), low), high)


def _binding(x: Decimal, row: Any, at_limit: bool, limit_is_capacity: bool) -> str:
    """What holds a proposed ratio where it is: a bound it sits on, else the plan's capacity or budget, else none
    (the stratum is the plan's marginal one, left with what the others did not use). `row`: a stratum."""
    if row.rate_basis == "none":
        return "no_estimate"
    if x == row.low:
        return "floor" if x == row.floor_exact else "cap" if x == row.cap_exact else "change_limit"
    if x == row.high:
        return "all_firms" if x == 1 else "cap" if x == row.cap_exact else "change_limit"
    if at_limit:
        return "capacity" if limit_is_capacity else "budget"
    return "none"


def _budgets(
    strata: pd.DataFrame, capacities: dict[str, PlanCapacity], budget: str
) -> tuple[dict[str, float], dict[str, str]]:
    """Inspections a year each plan may use, and why a plan whose floors alone exceed its capacity gets none: no
    ratios its inspectors can staff keep the floors, so nothing is proposed for it."""
    need = (strata["population"] * strata["solver_low"].astype(float)).groupby(strata["plan_id"]).sum()
    now = (strata["population"] * strata["current"].astype(float)).groupby(strata["plan_id"]).sum()
    budgets, unstaffable = {}, {}
    for pid in need.index:
        cap = capacities[pid]
        if need[pid] > cap.per_year + TOLERANCE:
            unstaffable[pid] = (
                f"{cap.department} ({pid}): the floors need {need[pid]:,.1f} inspections a year, its {cap.inspectors} "
                "inspectors (active, certified through the plan month, qualified for every item; "
                f"directory of {cap.snapshot_month or 'no delivery'}) can staff {cap.per_year:,} ({cap.workload_cap} "
                f"tasks each per draw, two a task, {cap.batches} draws a year): no proposal - add qualified "
                "inspectors or lower min_ratio in allocation.yaml"
            )
            continue
        full = float(cap.per_year)
        budgets[pid] = full if budget == "capacity" else min(full, max(float(now[pid]), float(need[pid])))
    return budgets, unstaffable


def _solver_strata(strata: pd.DataFrame) -> pd.DataFrame:
    """The strata as allocation.allocate takes them. A stratum without a rate is held where it is (floor = cap =
    its configured ratio, within its bounds): it uses capacity, but nothing is known of what it finds."""
    held = strata["rate_basis"] == "none"
    return pd.DataFrame(
        {
            "plan_id": strata["plan_id"],
            "tier": strata["tier"],
            "frame_size": strata["population"],
            "rate": strata["rate_used"].where(~held, 0.0),
            "current_ratio": strata["current"].astype(float),
            "floor": np.where(held, strata["solver_low"].astype(float), strata["floor_exact"].astype(float)),
            "cap": np.where(held, strata["solver_low"].astype(float), strata["cap_exact"].astype(float)),
            "capacity_group": strata["plan_id"],
        }
    )


def _proposed_ratios(strata: pd.DataFrame, solved: allocation.Allocation, budgets: dict[str, float]) -> list[Decimal]:
    """The solver's ratios as exact decimals (held strata at their held ratio). Rounding down may cost a little: a
    plan whose configured ratios are within its bounds and budget keeps them if its proposal would find less."""
    held = strata["rate_basis"] == "none"
    exact = pd.Series(
        [
            low if h else _exact_ratio(float(x), low, high)
            for x, low, high, h in zip(
                solved.proposal["proposed_ratio"], strata["solver_low"], strata["high"], held, strict=True
            )
        ],
        index=strata.index,
        dtype=object,
    )
    pop, rate = strata["population"], strata["rate_used"].fillna(0.0)
    for pid, part in strata.groupby("plan_id"):
        current = part["current"]
        inside = ((part["solver_low"] <= current) & (current <= part["high"])).all()
        affordable = float((pop[part.index] * current.astype(float)).sum()) <= budgets[pid] + TOLERANCE
        value = (pop[part.index] * rate[part.index]).to_numpy()
        worse = value @ exact[part.index].astype(float).to_numpy() < value @ current.astype(float).to_numpy()
        if inside and affordable and worse:
            exact[part.index] = current
    return exact.tolist()


def propose(
    conn: duckdb.DuckDBPyConnection,
    plans: Sequence[plan_policy.SamplingPlan],
    month: str | dt.date,
    policy: Policy,
) -> Proposal:
    """The proposal for the plans drawn from the tiers of month M (see the module's docstring); reads only."""
    m = Month.of(month)
    settings = policy.allocation
    strata, capacities = assemble_strata(conn, plans, m.start, settings)
    nothing = pd.DataFrame(columns=list(COLUMNS))
    if strata.empty:
        note = f"no plan draws in {frames.plan_month(m.start):%Y-%m}"
        return Proposal(m.start, nothing, pd.DataFrame(), capacities, {}, note)
    # A stratum without a rate stays at its configured ratio, brought within its bounds.
    strata["solver_low"] = [
        min(max(c, low), high) if basis == "none" else low
        for c, low, high, basis in zip(
            strata["current"], strata["low"], strata["high"], strata["rate_basis"], strict=True
        )
    ]
    budgets, unstaffable = _budgets(strata, capacities, settings.budget)
    strata = strata[~strata["plan_id"].isin(list(unstaffable))].reset_index(drop=True)
    if strata.empty:
        return Proposal(m.start, nothing, pd.DataFrame(), capacities, {}, "; ".join(unstaffable.values()), unstaffable)
    held = strata["rate_basis"] == "none"
    limits = {pid: float(capacities[pid].per_year) for pid in budgets}
    solver = _solver_strata(strata)
    max_change = float(settings.max_change)
    strata["proposed"] = _proposed_ratios(strata, allocation.allocate(solver, budgets, max_change), budgets)
    # Without any rate there is nothing to trade: no frontier (its findings would read 0, not unknown).
    curve = allocation.frontier(solver, limits, max_change, steps=settings.frontier_steps)
    curve = curve.iloc[:0] if held.all() else curve

    pop = strata["population"].to_numpy(dtype="float64")
    rate = strata["rate_used"].to_numpy(dtype="float64")
    current = strata["current"].astype(float).to_numpy()
    proposed = strata["proposed"].astype(float).to_numpy()
    used = pd.Series(pop * proposed).groupby(strata["plan_id"]).sum()
    binding = [
        _binding(
            row.proposed,
            row,
            # At its limit when what is left is less than one ratio step of this stratum (rounded down).
            used[row.plan_id] >= budgets[row.plan_id] - TOLERANCE - float(RATIO_STEP) * row.population,
            budgets[row.plan_id] >= limits[row.plan_id],
        )
        for row in strata.itertuples()
    ]
    version = versions.current("allocation", policy).version
    rows = strata.assign(
        month=m.start,
        current_ratio=current,
        floor=strata["floor_exact"].astype(float),
        cap=strata["cap_exact"].astype(float),
        proposed_ratio=proposed,
        inspections_current=pop * current,
        inspections_proposed=pop * proposed,
        expected_current=pop * current * rate,
        expected_proposed=pop * proposed * rate,
        inspectors=[capacities[p].inspectors for p in strata["plan_id"]],
        capacity=[limits[p] for p in strata["plan_id"]],
        budget=[budgets[p] for p in strata["plan_id"]],
        binding=binding,
        policy_version=version,
    )[list(COLUMNS)]
    frontier = curve.assign(
        month=m.start,
        step=np.arange(1, len(curve) + 1, dtype=np.int32),
        marginal_findings=curve["expected_findings"].diff() / curve["budget"].diff().replace(0.0, np.nan),
        policy_version=version,
    )[["month", "step", "budget", "expected_findings", "marginal_findings", "policy_version"]]
    ratios = {
        (p, t): (c, _text(x))
        for p, t, c, x in zip(
            strata["plan_id"], strata["tier"], strata["current_text"], strata["proposed"], strict=True
        )
    }
    notes = list(unstaffable.values())
    if held.any():
        notes.append(
            f"{int(held.sum())} of {len(held)} strata held at their configured ratio: their tier had fewer than "
            f"{settings.rates.min_inspections} random inspections in the {settings.rates.window_months} months to "
            f"{m.label}"
        )
    return Proposal(m.start, rows, frontier, capacities, ratios, "; ".join(notes), unstaffable)


def _text(value: Decimal) -> str:
    """An exact ratio as sampling_plans.yaml writes them: "1", else plain decimals, at least two ("0.10", "0.035")."""
    if value == 1:
        return "1"
    places = max(2, -value.normalize().as_tuple().exponent)
    return format(value.quantize(Decimal(1).scaleb(-places)), "f")


# --- the reports --------------------------------------------------------------------------------------------


def with_ratios(source: str, changed: dict[tuple[str, str], str]) -> str:
    """`source` (the text of a sampling_plans.yaml) with only the ratios of `changed` ((plan prefix, tier) →
    decimal string) rewritten: comments, layout and every other value stay byte for byte as the operator wrote them."""
    from ruamel.yaml import YAML  # round trip: an operator's comments survive
    from ruamel.yaml.scalarstring import DoubleQuotedScalarString
    from ruamel.yaml.util import load_yaml_guess_indent

    # The file's own indentation ("  - id:" then "    name_zh:": sequences 4, dashes 2 in), so that what is not
    # proposed stays byte for byte as the operator wrote it.
    _, sequence, offset = load_yaml_guess_indent(source)
    sequence, offset = sequence or 4, 2 if offset is None else offset
    rt = YAML()
    rt.preserve_quotes = True
    rt.width = 4096  # never re-wrap the operator's lines
    rt.indent(mapping=sequence - offset if sequence > offset else sequence, sequence=sequence, offset=offset)
    doc = rt.load(source)
    by_id = {p["id"]: p for p in doc["plans"]}
    for (plan, tier), ratio in changed.items():
        by_id[plan]["tiers"][tier]["ratio"] = DoubleQuotedScalarString(ratio)
    out = io.StringIO()
    rt.dump(doc, out)
    return out.getvalue()


def proposal_yaml(plans_file: Path, proposal: Proposal) -> str:
    """The policy's sampling_plans.yaml with only the proposed ratios changed (comments and layout kept), headed by
    what changed; validated as sampling_plans.yaml before it is returned."""
    suffix = f"-{frames.plan_month(proposal.month):%Y-%m}"  # plan_id = <id>-<YYYY-MM of M+1>
    changed = {(pid.removesuffix(suffix), tier): ratios for (pid, tier), ratios in proposal.changed.items()}
    body = with_ratios(plans_file.read_text(encoding="utf-8"), {k: x for k, (_, x) in changed.items()})
    m = Month.of(proposal.month)
    changes = [f"#   {p} {t}: {c} -> {x}" for (p, t), (c, x) in sorted(changed.items())] or ["#   none"]
    version = proposal.rows["policy_version"].iloc[0]
    header = [
        "# PROPOSAL (抽查比例调整建议), NOT IN FORCE: the annual ratios sampling/allocation proposes for the plans",
        f"# of {m.next().label}, from the tiers of {m.label} (policy version {version}).",
        "# This is the sampling_plans.yaml of the policy folder with only these ratios changed:",
        *changes,
        f"# Problems expected a year: {proposal.expected_current:,.1f} at the configured ratios, "
        f"{proposal.expected_proposed:,.1f} proposed.",
        f"# To adopt it, review it, then `zs-risk adopt-ratios --month {m.label}` writes these ratios into the",
        "# sampling_plans.yaml of the policy folder in use (or copy them by hand). Nothing changes until then, and a",
        "# plan already published never changes. Internal: derived from the credit-risk tiers (内部参考).",
    ]
    text = "\n".join(header) + "\n" + body
    base.validate(SamplingPlansFile, yaml.safe_load(text), PROPOSAL_FILE)
    return text


def frontier_svg(proposal: Proposal) -> str:
    """The frontier, the configured ratios and the proposal as an SVG drawn offline (matplotlib, no display),
    byte-identical for the same proposal."""
    import matplotlib
    from matplotlib.figure import Figure

    m = Month.of(proposal.month)
    rows, curve = proposal.rows, proposal.frontier
    with matplotlib.rc_context({"svg.hashsalt": "zs-risk-allocation", "svg.fonttype": "none"}):
        fig = Figure(figsize=(7.5, 4.5))
        ax = fig.add_subplot()
        ax.plot(
            curve["budget"],
            curve["expected_findings"],
            marker="o",
            color="#4c72b0",
            label="frontier: the most problems expected",
        )
        ax.scatter(
            [rows["inspections_current"].sum()], [proposal.expected_current], marker="s", s=60, color="#dd8452",
            label="configured ratios", zorder=3,
        )  # fmt: skip
        ax.scatter(
            [rows["inspections_proposed"].sum()], [proposal.expected_proposed], marker="*", s=160, color="#55a868",
            label="proposal", zorder=3,
        )  # fmt: skip
        ax.set_xlabel(f"inspections a year, all plans of {m.next().label}")
        ax.set_ylabel("problems expected a year")
        ax.set_title(f"Allocation frontier: plans of {m.next().label} from the tiers of {m.label}")
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right")
        fig.tight_layout()
        out = io.StringIO()
        fig.savefig(out, format="svg", metadata={"Date": None})
    return out.getvalue()


def write_reports(proposal: Proposal, folder: Path, plans_file: Path) -> dict[str, Path]:
    """The proposal file and the frontier plot in `folder` (owner-only: they are derived from tiers)."""
    written = {"proposal_file": folder / PROPOSAL_FILE, "frontier_plot": folder / PLOT_FILE}
    write_private(written["proposal_file"], proposal_yaml(plans_file, proposal))
    write_private(written["frontier_plot"], frontier_svg(proposal))
    return written


# --- the month ----------------------------------------------------------------------------------------------


def ensure_tables(conn: duckdb.DuckDBPyConnection) -> None:
    run_sql(conn, "intermediate/sampling.allocation.sql")
    run_sql(conn, "intermediate/sampling.allocation_frontier.sql")


def build_allocation(
    conn: duckdb.DuckDBPyConnection,
    plans: Sequence[plan_policy.SamplingPlan],
    month: str | dt.date,
    reports: Path,
    policy: Policy,
) -> Proposal:
    """Propose the ratios for the plans drawn from the tiers of month M, replace the month of sampling.allocation
    and sampling.allocation_frontier in one transaction, and write the reports under reports/allocation/<YYYY-MM>/
    (none when nothing could be proposed)."""
    proposal = propose(conn, plans, month, policy)
    start = Month.of(month).start
    if proposal.rows.empty:
        with transaction(conn):
            ensure_tables(conn)
            delete_month(conn, TABLE, start)
            delete_month(conn, FRONTIER_TABLE, start)
    else:
        registered = {"_allocation_rows": proposal.rows, "_allocation_frontier_rows": proposal.frontier}
        with transaction(conn, registered):
            ensure_tables(conn)
            run_sql(conn, "intermediate/sampling.allocation.sql#replace_month", {"month": start})
            run_sql(conn, "intermediate/sampling.allocation_frontier.sql#replace_month", {"month": start})
    folder = reports / "allocation" / Month.of(month).label
    if proposal.frontier.empty:  # nothing to propose (every ratio held): no report of an earlier run stays behind
        for name in (PROPOSAL_FILE, PLOT_FILE):
            (folder / name).unlink(missing_ok=True)
        return proposal
    return dataclasses.replace(proposal, reports=write_reports(proposal, folder, policy.folder / PROPOSAL_FILE))


def summary_lines(conn: duckdb.DuckDBPyConnection, reports: Path) -> list[str]:
    """The latest month's proposal for the demo's printout: per plan the ratios by tier, configured → proposed, and
    the problems expected a year; where the operator's copy lies. Reads only."""
    if not table_exists(conn, "sampling", "allocation"):
        return []
    rows = run_sql(conn, "intermediate/sampling.allocation.sql#summary")
    if not rows:
        return []
    month = rows[0][0]
    now = sum(r[5] or 0.0 for r in rows)
    proposed = sum(r[6] or 0.0 for r in rows)
    lines = [
        f"dynamic ratios under capacity (动态调整抽查比例; a proposal, internal) from the tiers of {month}: problems "
        f"expected a year {now:,.0f} at the configured ratios → {proposed:,.0f} proposed "
        f"({(proposed - now) / now:+.1%} with {sum(r[4] for r in rows):,.0f} instead of {sum(r[3] for r in rows):,.0f} "
        "inspections a year)"
        if now
        else f"dynamic ratios under capacity from the tiers of {month}: no rate to propose on"
    ]
    lines += [f"  {plan_id}: {ratios}" for _, plan_id, ratios, *_ in rows]
    copy = reports / "allocation" / month / PROPOSAL_FILE
    lines.append(f"  to adopt: review {copy}, then zs-risk adopt-ratios --month {month} (nothing is adopted by itself)")
    return lines


def violations(conn: duckdb.DuckDBPyConnection, month: str | dt.date) -> list[tuple[str, str, str]]:
    """(plan_id, tier, problem) for every row of the month that breaks what a proposal keeps: floor, cap, [0, 1],
    one row per plan and tier, and each plan's inspections within its capacity and budget ('*' as the tier)."""
    params = {"month": Month.of(month).start, "tolerance": TOLERANCE}
    return [(str(p), str(t), str(x)) for p, t, x in run_sql(conn, "checks/sampling.allocation.sql", params)]
