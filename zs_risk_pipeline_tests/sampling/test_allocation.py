"""Dynamic ratios under capacity: the proposal keeps every floor, cap and capacity, and beats the configured
ratios on a case computed by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from zs_risk_pipeline.lib.sampling import allocation


def strata(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(allocation.COLUMNS))


def hand_city() -> pd.DataFrame:
    """MR-GENERAL: 1,000 A firms (rate 5 %) and 100 D firms (rate 50 %), both at 10 % a year, floors 3 %, A capped
    at 10 % (无事不扰)."""
    return strata(
        [
            ("MR-GENERAL", "A", 1000, 0.05, 0.10, 0.03, 0.10, "market"),
            ("MR-GENERAL", "D", 100, 0.50, 0.10, 0.03, 1.00, "market"),
        ]
    )


def test_the_budget_moves_to_the_risky_tier_by_hand() -> None:
    # MR-GENERAL: 1,000 A firms (rate 5 %), 100 D firms (rate 50 %), both at 10 % a year: 110 inspections,
    # 5 + 5 = 10 problems expected. With the same 110 inspections, D can rise by 0.5 to 60 % (60 inspections),
    # which leaves 50 for A (5 %, above the 3 % floor): 50 × 0.05 + 60 × 0.5 = 32.5 problems.
    s = hand_city()
    got = allocation.allocate(s, {"market": 110}, max_change=0.5)
    assert got.proposal["proposed_ratio"].tolist() == pytest.approx([0.05, 0.60])
    assert got.expected_current == pytest.approx(10.0)
    assert got.expected_proposed == pytest.approx(32.5)
    assert got.gain == pytest.approx(22.5)
    assert got.capacity_used == {"market": pytest.approx((110.0, 110.0))}


def test_the_change_bound_and_the_floor_hold_by_hand() -> None:
    # The same city, ratios allowed to move 0.2 at most: D to 30 % (30 inspections), A keeps the rest (80 → 8 %).
    s = hand_city()
    got = allocation.allocate(s, {"market": 110}, max_change=0.2)
    assert got.proposal["proposed_ratio"].tolist() == pytest.approx([0.08, 0.30])
    assert got.expected_proposed == pytest.approx(80 * 0.05 + 30 * 0.5)
    # A tighter capacity is met by cutting A to its floor first (3 % = 30), then D gets the remaining 20.
    tight = allocation.allocate(s, {"market": 50}, max_change=1.0)
    assert tight.proposal["proposed_ratio"].tolist() == pytest.approx([0.03, 0.20])


@pytest.mark.parametrize("seed", range(40))
def test_every_floor_cap_and_capacity_holds(seed: int) -> None:
    rng = np.random.default_rng(seed)
    rows = []
    for plan, group in (("MR-GENERAL", "market"), ("MR-FOOD", "food"), ("MR-SPECIAL", "equipment")):
        for tier in "ABCD":
            current = float(rng.uniform(0.03, 0.3))
            cap = 0.05 if tier == "A" else 1.0
            rows.append(
                (plan, tier, int(rng.integers(50, 5000)), float(rng.beta(1, 6)), min(current, cap), 0.03, cap, group)
            )
    s = strata(rows)
    inspections_now = (s["frame_size"] * s["current_ratio"]).groupby(s["capacity_group"]).sum()
    capacity = {g: float(v * rng.uniform(0.8, 1.2)) for g, v in inspections_now.items()}
    try:
        got = allocation.allocate(s, capacity, max_change=0.1)
    except allocation.AllocationError as e:  # only when the floors alone exceed a capacity
        floors = (s["frame_size"] * np.maximum(s["floor"], s["current_ratio"] - 0.1)).groupby(s["capacity_group"]).sum()
        assert any(floors[g] > capacity[g] for g in capacity), e
        return
    x, p = got.proposal["proposed_ratio"], got.proposal
    floor = np.maximum(p["floor"], p["current_ratio"] - 0.1)
    assert (x >= floor - 1e-9).all()
    assert (x <= np.maximum(np.minimum(p["cap"], p["current_ratio"] + 0.1), floor) + 1e-9).all()
    for group, (used, limit) in got.capacity_used.items():
        assert used <= limit + 1e-6, group
    if all(inspections_now[g] <= capacity[g] for g in capacity):  # the configured ratios are feasible
        assert got.expected_proposed >= got.expected_current - 1e-9


def test_floors_above_the_capacity_are_named() -> None:
    s = strata([("MR-GENERAL", "A", 10_000, 0.05, 0.05, 0.03, 0.05, "market")])
    with pytest.raises(allocation.AllocationError, match=r"'market': \(300.0, 100\)"):
        allocation.allocate(s, {"market": 100}, max_change=0.5)
    with pytest.raises(allocation.AllocationError, match=r"no capacity given for the groups \['market'\]"):
        allocation.allocate(s, {"food": 100}, max_change=0.5)


def test_the_frontier_rises_from_the_floors_to_the_capacity() -> None:
    s = hand_city()
    f = allocation.frontier(s, {"market": 110}, max_change=0.5, steps=5)
    assert f["budget"].iloc[0] == pytest.approx(33.0)  # the floors: 30 + 3
    assert f["budget"].iloc[-1] == pytest.approx(110.0)  # the capacity binds before the bounds do
    assert f["expected_findings"].is_monotonic_increasing
    assert f["expected_findings"].iloc[-1] == pytest.approx(32.5)  # the proposal of the hand case
    # At the floors' budget: 30 × 0.05 + 3 × 0.5.
    assert f["expected_findings"].iloc[0] == pytest.approx(3.0)


def test_ratios_rise_with_risk_even_when_the_rates_invert_by_hand() -> None:
    # Tier B's estimated rate (30 %) above C's (20 %), both at 10 % with 20 inspections: left alone, the budget would go
    # to B (15 %) and leave C at 5 %. A riskier tier never gets a lower ratio than a safer one, so the best ordered use
    # of the same 20 inspections keeps both at 10 %.
    s = strata([("P", "C", 100, 0.2, 0.10, 0.01, 1.0, "g"), ("P", "B", 100, 0.3, 0.10, 0.01, 1.0, "g")])
    got = allocation.allocate(s, {"g": 20}, max_change=0.05)
    assert got.proposal["proposed_ratio"].tolist() == pytest.approx([0.10, 0.10])
    assert got.expected_proposed == pytest.approx(5.0)
    # An inversion configured wider than the change bound (B 30 %, C 10 %: B ≥ 25 %, C ≤ 15 % this month) leaves no
    # order to keep: it is dropped for the month, and the proposal still stands (B 35 %, C 5 % for 40 inspections).
    wide = s.assign(current_ratio=[0.10, 0.30])
    got = allocation.allocate(wide, {"g": 40}, max_change=0.05)
    assert got.proposal["proposed_ratio"].tolist() == pytest.approx([0.05, 0.35])
