"""Dynamic ratios under capacity (动态调整抽查比例和频次): per-plan, per-tier annual ratios that maximise the
expected problems found, as a linear programme solved with scipy's HiGHS (`scipy.optimize.linprog`).

Each stratum s (a tier of a plan's frame) has N_s firms, an estimated problem rate r_s and its configured ratio
c_s. The proposal x_s maximises Σ N_s r_s x_s subject to
- each capacity group's inspections (a department's active, qualified inspectors × workload cap × batches):
  Σ_{s in g} N_s x_s ≤ capacity_g;
- the stratum's floor (the legal floor of the publicity plan, the minimum chance of every firm) and cap (无事不扰
  for tier A), and at most `max_change` from the configured ratio either way (a configured ratio above its cap
  comes down to the cap; a floor wins over both); 0 ≤ x_s ≤ 1;
- ratios rise with risk (差异化监管): within a plan, a riskier tier never gets a lower ratio than a safer one
  (x_A ≤ x_B ≤ x_C ≤ x_D), so a noisy rate that inverts two tiers cannot turn the order of supervision around.
  Where the bounds leave no such order (a configured inversion wider than the change bound), the order is dropped
  for that month rather than the proposal.
Pass a conservative rate (a lower confidence bound or a shrunken rate) so that noise is not chased: a stratum whose
rate is uncertain is not given the budget on the strength of a few lucky inspections.

Operators adopt a proposal by editing config/sampling_plans.yaml; a published plan never changes.
Plain Python, no Dagster.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import linprog

COLUMNS = ("plan_id", "tier", "frame_size", "rate", "current_ratio", "floor", "cap", "capacity_group")


class AllocationError(ValueError):
    """The constraints cannot all hold (floors above a capacity), or the strata are malformed."""


@dataclass(frozen=True)
class Allocation:
    proposal: pd.DataFrame  # the strata with proposed_ratio, inspections and expected findings, now and proposed
    expected_current: float
    expected_proposed: float
    capacity_used: dict[str, tuple[float, float]]  # group: (inspections proposed, capacity)

    @property
    def gain(self) -> float:
        return self.expected_proposed - self.expected_current


def _bounds(strata: pd.DataFrame, max_change: float) -> tuple[np.ndarray, np.ndarray]:
    current = strata["current_ratio"].to_numpy(dtype="float64")
    floor = strata["floor"].to_numpy(dtype="float64")
    cap = strata["cap"].to_numpy(dtype="float64")
    # A configured ratio above its cap comes down to the cap at once: the cap (无事不扰) wins over the change bound.
    low = np.maximum.reduce([floor, np.minimum(current - max_change, cap), np.zeros(len(strata))])
    high = np.minimum.reduce([cap, current + max_change, np.ones(len(strata))])
    # A floor above the cap or the change bound: the floor is the law, it wins.
    return low, np.maximum(high, low)


def _check(strata: pd.DataFrame, capacity: Mapping[str, float]) -> None:
    missing = [c for c in COLUMNS if c not in strata.columns]
    if missing:
        raise AllocationError(f"strata lack the columns {missing}")
    unknown = sorted(set(strata["capacity_group"]) - set(capacity))
    if unknown:
        raise AllocationError(f"no capacity given for the groups {unknown}")
    bad = strata[(strata["rate"] < 0) | (strata["rate"] > 1) | (strata["frame_size"] < 0)]
    if len(bad):
        row = bad.iloc[0]
        raise AllocationError(f"stratum {row['plan_id']}/{row['tier']}: rate must lie in [0, 1], frame size >= 0")


def _tier_order(strata: pd.DataFrame) -> list[np.ndarray]:
    """One row x_safer − x_riskier ≤ 0 per pair of consecutive tiers of a plan (tiers sort A < B < C < D)."""
    rows = []
    plans, tiers = strata["plan_id"].to_numpy(), strata["tier"].to_numpy()
    for plan in sorted(set(plans)):
        mine = sorted(np.flatnonzero(plans == plan), key=lambda i: tiers[i])
        for safer, riskier in itertools.pairwise(mine):
            row = np.zeros(len(strata))
            row[safer], row[riskier] = 1.0, -1.0
            rows.append(row)
    return rows


def _solve(
    strata: pd.DataFrame, capacity: Mapping[str, float], low: np.ndarray, high: np.ndarray, budget: float | None
) -> np.ndarray | None:
    n = strata["frame_size"].to_numpy(dtype="float64")
    value = n * strata["rate"].to_numpy(dtype="float64")
    groups = sorted(capacity)
    rows = [np.where(strata["capacity_group"].to_numpy() == g, n, 0.0) for g in groups]
    limits = [float(capacity[g]) for g in groups]
    if budget is not None:
        rows.append(n)
        limits.append(budget)
    bounds = np.column_stack([low, high])
    order = _tier_order(strata)
    for ordered in ([*rows, *order], rows) if order else (rows,):
        b_ub = np.array(limits + [0.0] * (len(ordered) - len(rows)))
        result = linprog(-value, A_ub=np.array(ordered), b_ub=b_ub, bounds=bounds, method="highs")
        if result.status == 0:
            return result.x
    return None


def allocate(strata: pd.DataFrame, capacity: Mapping[str, float], max_change: float) -> Allocation:
    """The proposal that maximises the expected problems found under every floor, cap and capacity."""
    _check(strata, capacity)
    low, high = _bounds(strata, max_change)
    x = _solve(strata, capacity, low, high, None)
    n = strata["frame_size"].to_numpy(dtype="float64")
    if x is None:
        floors = strata.assign(_need=n * low).groupby("capacity_group")["_need"].sum()
        over = {g: (round(float(v), 1), capacity[g]) for g, v in floors.items() if v > capacity[g] + 1e-9}
        raise AllocationError(f"the floors need more inspections than the capacity allows (needed, capacity): {over}")
    x = np.clip(x, low, high)  # HiGHS may return a bound minus rounding noise
    rate = strata["rate"].to_numpy(dtype="float64")
    current = strata["current_ratio"].to_numpy(dtype="float64")
    out = strata.assign(
        proposed_ratio=x,
        inspections_current=n * current,
        inspections_proposed=n * x,
        expected_current=n * current * rate,
        expected_proposed=n * x * rate,
    )
    used = out.groupby("capacity_group")["inspections_proposed"].sum()
    return Allocation(
        proposal=out.reset_index(drop=True),
        expected_current=float(out["expected_current"].sum()),
        expected_proposed=float(out["expected_proposed"].sum()),
        capacity_used={g: (float(used.get(g, 0.0)), float(capacity[g])) for g in sorted(capacity)},
    )


def frontier(strata: pd.DataFrame, capacity: Mapping[str, float], max_change: float, steps: int = 11) -> pd.DataFrame:
    """Expected findings against the total budget (inspections a year), from the floors' budget to the most the
    bounds and capacities allow: what each further inspection buys."""
    _check(strata, capacity)
    low, high = _bounds(strata, max_change)
    n = strata["frame_size"].to_numpy(dtype="float64")
    rate = strata["rate"].to_numpy(dtype="float64")
    most = _solve(strata.assign(rate=1.0), capacity, low, high, None)  # the largest feasible budget
    if most is None:
        raise AllocationError("the floors need more inspections than the capacity allows")
    budgets = np.linspace(float(n @ low), float(n @ most), steps)
    rows = []
    for budget in budgets:
        x = _solve(strata, capacity, low, high, float(budget))
        rows.append({"budget": float(budget), "expected_findings": float((n * rate) @ x) if x is not None else np.nan})
    return pd.DataFrame(rows)
