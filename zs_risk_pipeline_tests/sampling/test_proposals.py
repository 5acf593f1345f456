"""The month's proposal of dynamic ratios (动态调整抽查比例) on a hand-built warehouse whose tables are created by the
real DDL: frame sizes and the populations they stand for, rates from the random inspections known by M (1/π, the
tier of the month before), the capacity of the inspectors the draw may pair, proposals computed by hand, the check
catching a broken proposal, and the operator's copy of the proposal."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pandas as pd
import pytest
import yaml

import zs_risk_synth as synth
from zs_risk_pipeline.definitions import build_defs
from zs_risk_pipeline.defs.sampling.allocation import ALLOCATION
from zs_risk_pipeline.lib.core import resources, settings
from zs_risk_pipeline.lib.core.sql import load_sql
from zs_risk_pipeline.lib.policy import base
from zs_risk_pipeline.lib.policy.allocation import AllocationFile
from zs_risk_pipeline.lib.policy.folder import Policy, load_policy_folder
from zs_risk_pipeline.lib.sampling import plan_policy, proposals
from zs_risk_pipeline_tests.conftest import policy_variant
from zs_risk_pipeline_tests.policy.test_policy_models import refused

M = dt.date(2024, 3, 1)  # the tier month; the plans are carried out in April 2024
LINEAGE = {"_source_file": "f.csv", "_file_sha256": "0" * 64, "_row_number": 1}

PLANS_YAML = """\
version: 1
plans:
  - id: MR-GENERAL
    name_zh: 企业公示信息双随机抽查
    department: SCJGJ
    publicity: true
    items:
      - {name_zh: 企业年度报告公示信息, domain: general, type: general}
    tiers:
      A: {ratio: "0.03"}         # the hand city keeps this comment
      B: {ratio: "0.05"}
      C: {ratio: "0.15"}
      D: {ratio: "0.60"}
    months: [4, 10]
    workload_cap: 10
  - id: MR-FOOD
    name_zh: 食品经营双随机抽查
    department: SCJGJ
    items:
      - {name_zh: 食品经营许可条件保持情况, domain: food, type: key}
    scope: {licence_domains: [food]}
    tiers:
      A: {ratio: "0.03"}
      B: {ratio: "0.10"}
      C: {ratio: "0.20"}
      D: {ratio: "1"}
    months: [4]
    workload_cap: 40
  - id: MR-PRODUCT
    name_zh: 工业产品生产双随机抽查
    department: SCJGJ
    items:
      - {name_zh: 工业产品质量, domain: industrial_product, type: general}
    scope: {industries: [C]}
    tiers:
      B: {ratio: "0.05"}
      C: {ratio: "0.15"}
      D: {ratio: "0.60"}
    months: every
    exclusions: {skip_tier_a_routine: true}
    workload_cap: 10
  - id: MR-SPECEQ
    name_zh: 特种设备使用单位双随机抽查
    department: SCJGJ
    items:
      - {name_zh: 特种设备使用登记, domain: special_equipment, type: key}
    tiers:
      A: {ratio: "0.03"}
      B: {ratio: "0.05"}
      C: {ratio: "0.20"}
      D: {ratio: "1"}
    months: [6]
    workload_cap: 20
"""
FRAMES = {  # plan → tier → N of the frame of March (the plans of April)
    "MR-GENERAL-2024-04": {"A": 100, "B": 100, "C": 20, "D": 10},
    "MR-FOOD-2024-04": {"A": 100, "B": 100, "C": 20, "D": 10},
    "MR-PRODUCT-2024-04": {"B": 100, "C": 20, "D": 10},
}
# Random plans of the history (the generator's), with π; a special campaign has none.
RANDOM_PLANS = [
    ("MR-HIST-2023-03", "random", 0.1, dt.date(2023, 3, 1)),
    ("MR-HIST-2024-01", "random", 0.1, dt.date(2024, 1, 1)),
    ("MR-HIST-2024-02", "random", 0.2, dt.date(2024, 2, 1)),
    ("MR-HIST-2024-03", "random", 0.1, dt.date(2024, 3, 1)),
    ("SP-2024-01", "special", None, dt.date(2024, 1, 1)),
]
JAN, FEB = dt.date(2024, 1, 15), dt.date(2024, 2, 15)
# Per tier, by hand (Hájek: Σ y/π ÷ Σ 1/π):
#   A  5 inspections of π 0.1, none found              → 0
#   B  4 of π 0.1 found nothing, and the mover found    → 1/5 = 0.2 (the mover was B in December, D in January:
#      inspected in January, it counts as B)
#   C  4 of π 0.1, one found; 2 of π 0.2, both found    → (10 + 5 + 5) / (40 + 10) = 0.4
#   D  4 of π 0.1, three found                          → 0.75
RATES = {"A": 0.0, "B": 0.2, "C": 0.4, "D": 0.75}


def _insert(conn: duckdb.DuckDBPyConnection, table: str, rows: list[dict[str, Any]]) -> None:
    conn.register("_rows", pd.DataFrame(rows))
    try:
        conn.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _rows")
    finally:
        conn.unregister("_rows")


def _tier(conn: duckdb.DuckDBPyConnection, uscc: str, month: dt.date, tier: str) -> None:
    row = {"month": month, "uscc": uscc, "model_version": "scorecard-v1", "model_kind": "scorecard", "score": 0.0}
    _insert(
        conn,
        "tiers.enterprise_monthly",
        [{**row, "probability": 0.1, "points": 0.0, "tier_by_score": tier, "tier": tier}],
    )


def _inspection(
    conn: duckdb.DuckDBPyConnection,
    uscc: str,
    tier: str,
    plan_id: str | None,
    on: dt.date,
    found: bool,
    trigger: str = "random",
    delivered: dt.date | None = None,
) -> None:
    """One inspection, its enterprise tiered `tier` in the month before it."""
    before = (pd.Timestamp(on).to_period("M") - 1).to_timestamp().date()
    _tier(conn, uscc, before, tier)
    row = {
        "task_id": f"T-{uscc}",
        "plan_id": plan_id,
        "uscc": uscc,
        "inspected_on": on,
        "trigger": trigger,
        "result_codes": ["PROBLEM" if found else "NO_ISSUE"],
        "problem_found": found,
        "_delivery_month": delivered or on.replace(day=1),
    }
    _insert(conn, "staging.inspections", [{**row, **LINEAGE}])


def _inspectors(conn: duckdb.DuckDBPyConnection, delivery: dt.date, file: str, rows: list[tuple]) -> None:
    """A directory snapshot: (inspector_id, department, qualifications, certificate valid until, active)."""
    _insert(
        conn,
        "staging.inspectors",
        [
            {
                "inspector_id": i,
                "department": dept,
                "branch": "city",
                "qualifications": quals.split(";"),
                "certificate_valid_until": valid,
                "active": active,
                "_delivery_month": delivery,
                **LINEAGE,
                "_source_file": file,
                "_row_number": n,
            }
            for n, (i, dept, quals, valid, active) in enumerate(rows, start=1)
        ],
    )


@pytest.fixture
def conn() -> Iterator[duckdb.DuckDBPyConnection]:
    c = duckdb.connect()
    for name in ("staging/staging.inspections.sql", "staging/staging.plans.sql", "staging/staging.inspectors.sql"):
        c.execute(load_sql(name))
    c.execute(load_sql("intermediate/tiers.enterprise_monthly.sql"))
    c.execute(load_sql("intermediate/sampling.frame.sql"))
    frame = [
        {"month": M, "plan_id": pid, "uscc": f"{pid}-{tier}-{i}", "tier": tier, "stratum": tier, "rate": "0.5"}
        | {"frame_size": n, "sample_size": 1, "inclusion_probability": 0.5, "town_code": "442000105"}
        | {"industry_code": "C3872", "industry_section": "C"}
        for pid, strata in FRAMES.items()
        for tier, n in strata.items()
        for i in range(n)
    ]
    _insert(c, "sampling.frame", frame)
    _insert(
        c,
        "staging.plans",
        [
            {"plan_id": p, "kind": kind, "inclusion_probability": pi, "drawn_on": on, "_delivery_month": on}
            | {"frame_size": 100, "sample_size": 10}
            | LINEAGE
            for p, kind, pi, on in RANDOM_PLANS
        ],
    )
    for tier, found in (("A", [0] * 5), ("B", [0] * 4), ("C", [1, 0, 0, 0]), ("D", [1, 1, 1, 0])):
        for i, y in enumerate(found):
            _inspection(c, f"{tier}{i}", tier, "MR-HIST-2024-01", JAN, bool(y))
    _tier(c, "MOVER", dt.date(2024, 1, 1), "D")  # D in January, B in December: its January inspection counts as B
    _inspection(c, "MOVER", "B", "MR-HIST-2024-01", JAN, True)
    _inspection(c, "C-FEB-1", "C", "MR-HIST-2024-02", FEB, True)
    _inspection(c, "C-FEB-2", "C", "MR-HIST-2024-02", FEB, True)
    # None of these counts: a triggered inspection, a random one delivered after M, one of a special campaign (no π),
    # one dated before the 12-month window.
    _inspection(c, "A-TRIGGERED", "A", None, FEB, True, trigger="triggered")
    _inspection(c, "A-LATE", "A", "MR-HIST-2024-03", dt.date(2024, 3, 20), True, delivered=dt.date(2024, 4, 1))
    _inspection(c, "A-SPECIAL", "A", "SP-2024-01", JAN, True)
    _inspection(c, "A-OLD", "A", "MR-HIST-2023-03", dt.date(2023, 3, 20), True)
    valid, soon = dt.date(2025, 12, 31), dt.date(2024, 4, 15)  # `soon` expires inside April
    _inspectors(
        c,
        dt.date(2024, 1, 1),
        "inspectors_202401.csv",
        [(f"OLD{i}", "SCJGJ", "general;food", valid, True) for i in range(9)],
    )
    _inspectors(c, M, "inspectors_20240301.csv", [("GONE", "SCJGJ", "general;food;industrial_product", valid, True)])
    _inspectors(
        c,
        M,
        "inspectors_20240320.csv",  # the corrected snapshot of March, the one in force
        [
            ("I1", "SCJGJ", "general;food;industrial_product", valid, True),
            ("I2", "SCJGJ", "general;food", valid, False),  # not in post
            ("I3", "SCJGJ", "general;food", soon, True),  # certificate lapses during the plan month
            ("I4", "SCJGJ", "general", valid, True),  # not qualified for food or industrial products
            ("I5", "WSJKJ", "general;food", valid, True),  # another member unit
            ("I6", "SCJGJ", "general;food;industrial_product", valid, True),
        ],
    )
    _inspectors(
        c,
        dt.date(2024, 4, 1),
        "inspectors_202404.csv",
        [(f"NEW{i}", "SCJGJ", "general", valid, True) for i in range(9)],
    )
    yield c
    c.close()


def policy(tmp_path: Path, name: str = "policy", **settings: str) -> Policy:
    """A policy folder: the pinned test policy with the hand city's sampling_plans.yaml, and min_inspections 4 (its
    tiers have 5 or 6 inspections each) and `settings` changed in allocation.yaml."""

    def edit(doc: dict) -> None:
        doc["rates"]["min_inspections"] = 4
        doc.update(settings)

    folder = policy_variant(tmp_path / name, "allocation.yaml", edit)
    (folder / "sampling_plans.yaml").write_text(PLANS_YAML, encoding="utf-8")
    return load_policy_folder(folder)


@pytest.fixture
def plans(tmp_path: Path) -> list[plan_policy.SamplingPlan]:
    return list(policy(tmp_path, "plans").sampling_plans)


def by_stratum(frame: pd.DataFrame) -> dict[tuple[str, str], dict[str, Any]]:
    return {(r["plan_id"], r["tier"]): r for r in frame.to_dict("records")}


def test_the_strata_count_the_frame_the_known_random_inspections_and_the_qualified_inspectors(
    conn: duckdb.DuckDBPyConnection, plans: list[plan_policy.SamplingPlan], tmp_path: Path
) -> None:
    strata, capacities = proposals.assemble_strata(conn, plans, M, policy(tmp_path).allocation)
    got = by_stratum(strata)
    # The plans of April: MR-SPECEQ draws in June only; MR-PRODUCT leaves A out (无事不扰).
    assert sorted(got) == sorted((pid, t) for pid, strata in FRAMES.items() for t in strata)
    assert {k: v["frame_size"] for k, v in got.items()} == {
        (pid, t): n for pid, strata in FRAMES.items() for t, n in strata.items()
    }
    # MR-GENERAL draws in April and October: April is its first batch, the frame is the whole tier. MR-PRODUCT draws
    # every month: April's frame lacks the firms of 3 earlier batches, N = population × (12 − 3 r) / 12.
    assert got[("MR-GENERAL-2024-04", "D")]["population"] == pytest.approx(10)
    assert got[("MR-PRODUCT-2024-04", "B")]["population"] == pytest.approx(100 * 12 / (12 - 3 * 0.05))
    assert got[("MR-PRODUCT-2024-04", "D")]["population"] == pytest.approx(10 * 12 / (12 - 3 * 0.60))
    # No configured plan has inspections of its own: every stratum takes its tier's city-wide rate, by hand.
    assert {k: v["rate_used"] for k, v in got.items()} == {k: pytest.approx(RATES[k[1]]) for k in got}
    assert {v["rate_basis"] for v in got.values()} == {"tier"}
    # Floors: the publicity plan's legal 3 %, the minimum chance elsewhere; A capped at 3 % (无事不扰).
    assert got[("MR-GENERAL-2024-04", "B")]["floor_exact"] == Decimal("0.03")
    assert got[("MR-GENERAL-2024-04", "B")]["floor_basis"] == "legal_floor"
    assert got[("MR-FOOD-2024-04", "B")]["floor_exact"] == Decimal("0.01")
    assert got[("MR-FOOD-2024-04", "A")]["cap_exact"] == Decimal("0.03")
    assert got[("MR-FOOD-2024-04", "B")]["cap_exact"] == Decimal(1)
    # Capacity from the corrected March snapshot only: I1, I4, I6 for the publicity plan; I1 and I6 (food,
    # industrial products) for the others. I2 is not in post, I3's certificate lapses in April, I5 is of another
    # unit, GONE was dropped by the correction, OLD* and NEW* are of other months' snapshots.
    assert {pid: c.inspectors for pid, c in capacities.items()} == {
        "MR-GENERAL-2024-04": 3,
        "MR-FOOD-2024-04": 2,
        "MR-PRODUCT-2024-04": 2,
    }
    # Inspections a year: inspectors × workload cap ÷ 2 (two a task) × draws a year.
    assert {pid: c.per_year for pid, c in capacities.items()} == {
        "MR-GENERAL-2024-04": 3 * 10 // 2 * 2,
        "MR-FOOD-2024-04": 2 * 40 // 2 * 1,
        "MR-PRODUCT-2024-04": 2 * 10 // 2 * 12,
    }
    assert capacities["MR-GENERAL-2024-04"].snapshot_month == M


def test_a_plans_own_inspections_are_shrunk_toward_the_tiers_rate(
    conn: duckdb.DuckDBPyConnection, plans: list[plan_policy.SamplingPlan], tmp_path: Path
) -> None:
    # MR-FOOD's own B inspections: 3 of π 0.5, none found. Tier B city-wide: 4 + 1 of π 0.1 (one found) and these
    # 3: (10) / (50 + 6) = 10/56. Shrunk with the weight of 50 inspections: (0 × 3 + 50 × 10/56) / (3 + 50).
    plan = {"plan_id": "MR-FOOD-2024-02", "kind": "random", "inclusion_probability": 0.5, "drawn_on": FEB}
    drawn = {"_delivery_month": FEB.replace(day=1), "frame_size": 6, "sample_size": 3}
    _insert(conn, "staging.plans", [{**plan, **drawn, **LINEAGE}])
    for i in range(3):
        _inspection(conn, f"FOOD-B{i}", "B", "MR-FOOD-2024-02", FEB, False)
    settings = policy(tmp_path).allocation
    strata, _ = proposals.assemble_strata(conn, plans, M, settings)
    got = by_stratum(strata)
    food_b = got[("MR-FOOD-2024-04", "B")]
    assert food_b["inspections_known"] == 3
    assert food_b["rate_estimate"] == 0.0
    assert food_b["rate_basis"] == "plan_tier"
    assert food_b["rate_used"] == pytest.approx(50 * (10 / 56) / 53)
    assert got[("MR-GENERAL-2024-04", "B")]["rate_used"] == pytest.approx(10 / 56)  # no inspections of its own
    # The lower bound instead: the plan's own interval (0 found of 3: its lower end is 0), the tier's for the others.
    low = dataclasses.replace(settings, rates=dataclasses.replace(settings.rates, method="lower_bound"))
    got = by_stratum(proposals.assemble_strata(conn, plans, M, low)[0])
    assert got[("MR-FOOD-2024-04", "B")]["rate_used"] == 0.0
    assert 0 < got[("MR-GENERAL-2024-04", "B")]["rate_used"] < 10 / 56
    # A tier with fewer inspections than min_inspections has no rate: held.
    few = dataclasses.replace(settings, rates=dataclasses.replace(settings.rates, min_inspections=7))
    strata, _ = proposals.assemble_strata(conn, plans, M, few)
    held = {t: r["rate_basis"] for (pid, t), r in by_stratum(strata).items() if pid == "MR-GENERAL-2024-04"}
    assert held == {"A": "none", "B": "tier", "C": "none", "D": "none"}  # A 5, B 8, C 6, D 4 inspections


def test_the_proposal_by_hand_within_the_change_bound_and_the_budget(
    conn: duckdb.DuckDBPyConnection, plans: list[plan_policy.SamplingPlan], tmp_path: Path
) -> None:
    """MR-GENERAL (A 100, B 100, C 20, D 10 firms; rates 0, 0.2, 0.4, 0.75) at 3/5/15/60 %: 17 inspections a year,
    6.7 problems. Same budget, each ratio at most 5 points from its own: A stays at 3 % (floor = cap); D to 65 %,
    C to 20 % (1.5 inspections more); B gives them up, 5 → 3.5 (not to its floor 3: the budget is left) →
    3.5 × 0.2 + 4 × 0.4 + 6.5 × 0.75 = 7.175.
    MR-FOOD at 3/10/20/100 %: 27 inspections, 11.1 problems. A to its floor 1 % (−2), C to 25 % (+1), D is already
    at 100 %, B takes the last one: 11 % → 11 × 0.2 + 5 × 0.4 + 10 × 0.75 = 11.7."""
    p = proposals.propose(conn, plans[:2], M, policy(tmp_path))
    got = by_stratum(p.rows)
    ratios = {k: v["proposed_ratio"] for k, v in got.items()}
    assert ratios == {
        ("MR-GENERAL-2024-04", "A"): pytest.approx(0.03),
        ("MR-GENERAL-2024-04", "B"): pytest.approx(0.035),
        ("MR-GENERAL-2024-04", "C"): pytest.approx(0.20),
        ("MR-GENERAL-2024-04", "D"): pytest.approx(0.65),
        ("MR-FOOD-2024-04", "A"): pytest.approx(0.01),
        ("MR-FOOD-2024-04", "B"): pytest.approx(0.11),
        ("MR-FOOD-2024-04", "C"): pytest.approx(0.25),
        ("MR-FOOD-2024-04", "D"): pytest.approx(1.0),
    }
    assert {k: v["binding"] for k, v in got.items()} == {
        ("MR-GENERAL-2024-04", "A"): "floor",
        ("MR-GENERAL-2024-04", "B"): "budget",
        ("MR-GENERAL-2024-04", "C"): "change_limit",
        ("MR-GENERAL-2024-04", "D"): "change_limit",
        ("MR-FOOD-2024-04", "A"): "floor",
        ("MR-FOOD-2024-04", "B"): "budget",
        ("MR-FOOD-2024-04", "C"): "change_limit",
        ("MR-FOOD-2024-04", "D"): "all_firms",
    }
    assert p.expected_current == pytest.approx(6.7 + 11.1)
    assert p.expected_proposed == pytest.approx(7.175 + 11.7)
    assert p.gain == pytest.approx(0.475 + 0.6)
    used = p.rows.groupby("plan_id")[["inspections_current", "inspections_proposed"]].sum()
    assert used.loc["MR-GENERAL-2024-04"].tolist() == pytest.approx([17, 17])
    assert used.loc["MR-FOOD-2024-04"].tolist() == pytest.approx([27, 27])
    # Exact decimals for the operator's file, the configured ones as written.
    assert p.ratios[("MR-GENERAL-2024-04", "B")] == ("0.05", "0.035")
    assert p.ratios[("MR-FOOD-2024-04", "D")] == ("1", "1")
    assert set(p.changed) == {k for k in got if k not in {("MR-GENERAL-2024-04", "A"), ("MR-FOOD-2024-04", "D")}}
    # The frontier rises from what the floors need to the most the capacity allows, through the proposal's budget.
    curve = p.frontier
    assert curve["expected_findings"].is_monotonic_increasing
    assert curve["budget"].iloc[-1] <= 30 + 40 + 1e-6


def test_the_capacity_binds_and_floors_above_it_name_the_department(
    conn: duckdb.DuckDBPyConnection, plans: list[plan_policy.SamplingPlan], tmp_path: Path
) -> None:
    # MR-FOOD with a workload cap of 10: its 2 inspectors staff 2 × 10 ÷ 2 = 10 inspections a year, fewer than the
    # 27 configured. Ratios free to move: every tier at its 1 % floor (1 + 1 + 0.2 + 0.1), D takes the other
    # 7.7 - 0.1 → D = 7.8 of 10 firms = 78 %.
    food = dataclasses.replace(plans[1], workload_cap=10)
    p = proposals.propose(conn, [food], M, policy(tmp_path, "free", max_change="1"))
    got = by_stratum(p.rows)
    assert {t: v["proposed_ratio"] for (_, t), v in got.items()} == {
        "A": pytest.approx(0.01),
        "B": pytest.approx(0.01),
        "C": pytest.approx(0.01),
        "D": pytest.approx(0.78),
    }
    assert got[("MR-FOOD-2024-04", "D")]["binding"] == "capacity"
    assert p.rows["inspections_proposed"].sum() == pytest.approx(10)
    assert p.rows["budget"].iloc[0] == p.rows["capacity"].iloc[0] == 10
    # Within 5 points of the configured ratios, the floors alone need 1 + 5 + 3 + 9.5 = 18.5 inspections: no
    # proposal for the plan, and the reason names the department and the plan; the other plans are still proposed.
    p = proposals.propose(conn, [plans[0], food], M, policy(tmp_path))
    assert p.unstaffable == {
        "MR-FOOD-2024-04": "SCJGJ (MR-FOOD-2024-04): the floors need 18.5 inspections a year, its 2 inspectors "
        "(active, certified through the plan month, qualified for every item; directory of 2024-03-01) can staff 10 "
        "(10 tasks each per draw, two a task, 1 draws a year): no proposal - add qualified inspectors or lower "
        "min_ratio in allocation.yaml"
    }
    assert set(p.rows["plan_id"]) == {"MR-GENERAL-2024-04"}
    assert p.unstaffable["MR-FOOD-2024-04"] in p.note


def test_the_check_catches_a_proposal_below_its_floor_above_its_cap_or_over_capacity(
    conn: duckdb.DuckDBPyConnection, plans: list[plan_policy.SamplingPlan], tmp_path: Path
) -> None:
    p = proposals.build_allocation(conn, plans[:2], M, tmp_path / "reports", policy(tmp_path))
    assert proposals.violations(conn, M) == []
    written = conn.execute("SELECT plan_id, tier, proposed_ratio FROM sampling.allocation ORDER BY ALL").fetchall()
    assert written == sorted(
        (pid, t, r) for (pid, t), r in p.rows.set_index(["plan_id", "tier"])["proposed_ratio"].items()
    )
    conn.execute(
        "UPDATE sampling.allocation SET proposed_ratio = 0.02 WHERE plan_id = 'MR-GENERAL-2024-04' AND tier = 'B'"
    )
    conn.execute(
        "UPDATE sampling.allocation SET proposed_ratio = 0.05 WHERE plan_id = 'MR-FOOD-2024-04' AND tier = 'A'"
    )
    conn.execute(
        "UPDATE sampling.allocation SET inspections_proposed = inspections_proposed + 14 "
        "WHERE plan_id = 'MR-GENERAL-2024-04' AND tier = 'D'"
    )
    found = proposals.violations(conn, M)
    assert found == [
        ("MR-FOOD-2024-04", "A", "proposed ratio 0.05 above its cap 0.03"),
        ("MR-GENERAL-2024-04", "*", "SCJGJ: 31.0 inspections a year proposed, its budget is 17.0"),
        ("MR-GENERAL-2024-04", "*", "SCJGJ: 31.0 inspections a year proposed, its inspectors can staff 30.0"),
        ("MR-GENERAL-2024-04", "B", "proposed ratio 0.02 below its floor 0.03 (legal_floor)"),
    ]


def test_the_operators_copy_changes_only_the_proposed_ratios(
    conn: duckdb.DuckDBPyConnection, plans: list[plan_policy.SamplingPlan], tmp_path: Path
) -> None:
    p = proposals.build_allocation(conn, plans[:2], M, tmp_path / "reports", policy(tmp_path))
    assert p.reports == {
        "proposal_file": tmp_path / "reports" / "allocation" / "2024-03" / "sampling_plans.yaml",
        "frontier_plot": tmp_path / "reports" / "allocation" / "2024-03" / "frontier.svg",
    }
    text = p.reports["proposal_file"].read_text(encoding="utf-8")
    assert text.startswith("# PROPOSAL")
    # The operator's file with only the proposed ratios changed, byte for byte otherwise (comments, quotes, layout).
    header, _, body = text.partition("version: 1\n")
    assert all(line.startswith("#") for line in header.splitlines())
    assert "#   MR-GENERAL B: 0.05 -> 0.035" in header.splitlines()
    edited = PLANS_YAML
    for (pid, tier), (before, after) in p.changed.items():
        plan = pid.removesuffix("-2024-04")
        start = edited.index(f"  - id: {plan}\n")
        at = edited.index(f'      {tier}: {{ratio: "{before}"}}', start)
        edited = edited[:at] + edited[at:].replace(f'"{before}"', f'"{after}"', 1)
    assert "version: 1\n" + body == edited
    proposed = plan_policy.load_plans(p.reports["proposal_file"])  # a valid sampling_plans.yaml
    configured = plans
    ratios = {(q.id, t): r.ratio for q in proposed for t, r in q.tiers.items()}
    before = {(q.id, t): r.ratio for q in configured for t, r in q.tiers.items()}
    changed = {k: v for k, v in ratios.items() if v != before[k]}
    assert changed == {
        ("MR-GENERAL", "B"): "0.035",
        ("MR-GENERAL", "C"): "0.20",
        ("MR-GENERAL", "D"): "0.65",
        ("MR-FOOD", "A"): "0.01",
        ("MR-FOOD", "B"): "0.11",
        ("MR-FOOD", "C"): "0.25",
    }
    # Everything else as the operator wrote it (MR-PRODUCT and MR-SPECEQ do not draw in April).
    strip = lambda plans_: [dataclasses.replace(q, tiers={}) for q in plans_]  # noqa: E731
    assert strip(proposed) == strip(configured)
    svg = p.reports["frontier_plot"].read_text(encoding="utf-8")
    assert "<svg" in svg and svg == proposals.frontier_svg(p)  # byte-identical for the same proposal
    assert (p.reports["proposal_file"].stat().st_mode & 0o777) == 0o600  # derived from tiers: owner-only
    yaml.safe_load(text)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d.update(max_change=0.05), 'max_change: rate must be a decimal string such as "0.05", got 0.05'),
        (lambda d: d.update(min_ratio="0"), "min_ratio: must be above 0 (every firm keeps a chance of being drawn)"),
        (lambda d: d.update(tier_caps={"A": "0.005"}), "tier_caps.A: 0.005 is below min_ratio 0.01"),
        (lambda d: d.update(tier_caps={"A": "0.02"}), "tier_caps.A: 0.02 is below the legal floor 0.03"),
        (lambda d: d.update(tier_caps={"E": "0.5"}), "tier_caps: unknown tier(s) ['E']"),
        (lambda d: d.update(budget="all"), "budget: 'all' not in ['current', 'capacity']"),
        (lambda d: d["rates"].update(method="mean"), "rates.method: 'mean' not in ['shrinkage', 'lower_bound']"),
        (lambda d: d["rates"].update(confidence=1), "rates.confidence: must be a number in (0, 1), got 1"),
        (lambda d: d["rates"].pop("min_inspections"), "rates.min_inspections: is required"),
    ],
)
def test_allocation_policy_rules(tmp_path: Path, edit: Callable[[dict], object], message: str) -> None:
    assert message in refused(tmp_path, "allocation.yaml", edit, lambda p: base.load_file(AllocationFile, p))


CHAIN_MONTHS = ["2023-01", "2023-02", "2023-03"]


@pytest.mark.e2e
def test_the_allocation_runs_in_the_monthly_chain_within_its_floors_and_capacity(
    home: settings.Paths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A small synthetic city through Dagster: each month's allocation (and everything it reads) materialises
    with its blocking check, keeps every floor, cap and capacity, finds at least as many problems as the
    configured ratios, and leaves the operator's copy of the proposal in the reports."""
    # The small city's random plans inspect a handful of firms a month: let every inspected tier give a rate.
    relaxed = policy_variant(tmp_path, "allocation.yaml", lambda d: d["rates"].update(min_inspections=1))
    monkeypatch.setenv(resources.CONFIG_ENV, str(relaxed))
    synth.generate(
        home.landing, home.ground_truth, enterprises=3000, months=len(CHAIN_MONTHS), start="2023-01", seed=11
    )
    defs = build_defs()
    upstream = dg.AssetSelection.assets(ALLOCATION).upstream().resolve(defs.resolve_asset_graph())
    job = defs.resolve_job_def("monthly_chain").get_subset(asset_selection=upstream)
    instance = dg.DagsterInstance.ephemeral()
    for month in CHAIN_MONTHS:
        result = job.execute_in_process(partition_key=f"{month}-01", instance=instance, raise_on_error=False)
        assert result.success, [e.event_specific_data.error.message for e in result.get_step_failure_events()]
    check = next(e for e in result.get_asset_check_evaluations() if e.asset_key == ALLOCATION)
    assert check.check_name == "allocation_keeps_floors_caps_and_capacity" and check.passed
    md = next(
        m.materialization.metadata for m in result.get_asset_materialization_events() if m.asset_key == ALLOCATION
    )
    with duckdb.connect(str(home.warehouse), read_only=True) as conn:
        rows = conn.execute("SELECT * FROM sampling.allocation WHERE month = DATE '2023-03-01'").df()
        assert proposals.violations(conn, "2023-03") == []
        said = proposals.summary_lines(conn, home.reports)
    assert len(rows) and set(rows["plan_id"]) >= {"MR-GENERAL-2023-04"}
    assert (rows["proposed_ratio"] >= rows["floor"]).all() and (rows["proposed_ratio"] <= rows["cap"]).all()
    general = rows[rows["plan_id"] == "MR-GENERAL-2023-04"]
    assert (general["floor"] == 0.03).all()  # the legal floor of the publicity plan
    used = rows.groupby("plan_id").agg(proposed=("inspections_proposed", "sum"), capacity=("capacity", "first"))
    assert (used["proposed"] <= used["capacity"] + proposals.TOLERANCE).all()
    assert (rows["rate_basis"] != "none").any()  # a real proposal: some tier has a rate
    assert md["expected_gain"].value >= -1e-9
    assert md["expected_findings_proposed"].value >= md["expected_findings_current"].value - 1e-9
    assert "| plan | tier |" in md["proposal"].value and "| step |" in md["frontier"].value
    copy = Path(md["proposal_file"].value)
    assert copy == home.reports / "allocation" / "2023-03" / "sampling_plans.yaml"
    assert plan_policy.load_plans(copy)  # a valid sampling_plans.yaml
    assert Path(md["frontier_plot"].value).read_text(encoding="utf-8").lstrip().startswith("<?xml")
    # The summary the demo prints: the latest month's totals and each plan's ratios, configured → proposed.
    now, proposed = rows["expected_current"].sum(), rows["expected_proposed"].sum()
    assert said[0].startswith("dynamic ratios under capacity") and "from the tiers of 2023-03" in said[0]
    assert f"{now:,.0f} at the configured ratios → {proposed:,.0f} proposed" in said[0]
    line = next(x for x in said if x.startswith("  MR-GENERAL-2023-04: "))
    for r in general.itertuples():
        assert f"{r.tier} {round(r.current_ratio, 3)}→{round(r.proposed_ratio, 3)}" in line
    assert str(copy) in said[-1]
