"""Sampling plans and frames (双随机抽查计划与抽查对象名录): config validation naming the file and the plan,
exact per-draw rates that reach the annual ratio, and frame eligibility on a hand-built tiny warehouse."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

from zs_risk_pipeline.lib.sampling import frames, plan_policy, protocol
from zs_risk_pipeline.lib.sampling.frames import per_draw_rate
from zs_risk_pipeline.lib.sampling.plan_policy import load_plans
from zs_risk_pipeline_tests.conftest import policy_file, yaml_variant

SEED = "fedcba9876543210" * 4
MONTH = "2024-03"  # the tier month M; plans run in 2024-04
M = dt.date(2024, 3, 1)


def write_variant(tmp_path: Path, edit) -> Path:
    return yaml_variant(tmp_path, policy_file("sampling_plans.yaml"), edit)


def plan_of(tmp_path: Path, **fields: Any) -> plan_policy.SamplingPlan:
    """One plan loaded through load_plans (so the test plan is validated like an operator's)."""
    raw = {
        "id": "MR-X",
        "name_zh": "测试抽查",
        "department": "SCJGJ",
        "items": [{"name_zh": "测试事项", "domain": "general", "type": "general"}],
        "tiers": {t: {"ratio": "0.5"} for t in "ABCD"},
        "months": "every",
        "workload_cap": 10,
        **fields,
    }
    path = tmp_path / "plans.yaml"
    path.write_text(yaml.safe_dump({"version": 1, "plans": [raw]}, allow_unicode=True), encoding="utf-8")
    return load_plans(path)[0]


# --- the operator config ---------------------------------------------------------------------------------


def test_default_plans() -> None:
    plans = {p.id: p for p in load_plans()}
    assert {"MR-GENERAL", "MR-FOOD", "MR-SPECEQ", "MR-PRODUCT"} <= set(plans)
    assert any(p.department != "SCJGJ" for p in plans.values())  # joint plans of other member units
    general = plans["MR-GENERAL"]
    assert general.publicity and general.scope.everyone and not general.skip_tier_a_routine
    assert all(Decimal(r.ratio) >= Decimal("0.03") for r in general.tiers.values())
    assert plans["MR-FOOD"].scope.licence_domains == ("food",)
    assert plans["MR-PRODUCT"].skip_tier_a_routine and "A" not in plans["MR-PRODUCT"].tiers
    assert plans["MR-SPECEQ"].months == (3, 6, 9, 12) and plans["MR-SPECEQ"].tiers["A"].months == (6,)
    assert all(isinstance(r.ratio, str) for p in plans.values() for r in p.tiers.values())


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d["plans"][1].update(colour="red"), r"plan 2 \(MR-FOOD\) colour: unknown key \(allowed: department"),
        (lambda d: d["plans"][1]["scope"].update(sectors=["C"]), r"plan 2 \(MR-FOOD\) scope\.sectors: unknown key"),
        (lambda d: d["plans"][1]["tiers"]["B"].update(share="0.1"), r"plan 2 \(MR-FOOD\) tiers\.B\.share: unknown key"),
        (lambda d: d.update(plan=[]), r": plan: unknown key \(allowed: plans, version\)"),
        (lambda d: d["plans"][1].pop("workload_cap"), r"plan 2 \(MR-FOOD\) workload_cap: is required"),
        # A YAML float is a binary float: refused, with the hint to quote it.
        (
            lambda d: d["plans"][1]["tiers"]["C"].update(ratio=0.2),
            r"plan 2 \(MR-FOOD\) tiers\.C\.ratio: rate must be a decimal string .*quote it in YAML",
        ),
        (lambda d: d["plans"][1]["tiers"]["C"].update(ratio="20%"), r"plan 2 \(MR-FOOD\) tiers\.C\.ratio: .*decimal"),
        (
            lambda d: d["plans"][1]["tiers"]["D"].update(ratio="1.5"),
            r"plan 2 \(MR-FOOD\) tiers\.D\.ratio: rate 1.5 is above",
        ),
        (
            lambda d: d["plans"][1]["tiers"]["D"].update(ratio="0"),
            r"plan 2 \(MR-FOOD\) tiers\.D\.ratio: must be above 0",
        ),
        (lambda d: d["plans"][1]["items"][0].update(domain="fod"), r"plan 2 \(MR-FOOD\) item 1 domain: 'fod' not in"),
        (lambda d: d["plans"][1]["items"][2].update(type="major"), r"plan 2 \(MR-FOOD\) item 3 type: 'major' not in"),
        (lambda d: d["plans"][1].update(items=[]), r"plan 2 \(MR-FOOD\) items: must not be empty"),
        (lambda d: d["plans"][1].update(publicity="yes"), r"plan 2 \(MR-FOOD\) publicity: must be true or false"),
        (
            lambda d: d["plans"][1]["scope"].update(licence_domains=["general"]),
            r"plan 2 \(MR-FOOD\) scope\.licence_domains: licence domain 'general' not in",
        ),
        (
            lambda d: d["plans"][3]["scope"].update(industries=["C50"]),
            r"plan 4 \(MR-PRODUCT\) scope\.industries: 'C50': division 50 is not in section C",
        ),
        (
            lambda d: d["plans"][3]["scope"].update(industries=["manufacturing"]),
            r"plan 4 \(MR-PRODUCT\) scope\.industries: 'manufacturing' is not a GB/T 4754-2017 prefix",
        ),
        (
            lambda d: d["plans"][3]["scope"].update(towns=["火星镇"]),
            r"plan 4 \(MR-PRODUCT\) scope\.towns: '火星镇' is neither",
        ),
        (
            lambda d: d["plans"][3]["scope"].update(towns=["古镇镇", 442000105]),
            r"plan 4 \(MR-PRODUCT\) scope\.towns: lists a town twice: \['442000105'\]",
        ),
        (
            lambda d: d["plans"][3]["tiers"].update(A={"ratio": "0.03"}),
            r"plan 4 \(MR-PRODUCT\) tiers: lists A although exclusions.skip_tier_a_routine",
        ),
        (lambda d: d["plans"][1]["tiers"].pop("C"), r"plan 2 \(MR-FOOD\) tiers: lacks tier\(s\) \['C'\]"),
        (lambda d: d["plans"][1]["tiers"].update(E={"ratio": "0.1"}), r"plan 2 \(MR-FOOD\) tiers: unknown tier\(s\)"),
        (
            lambda d: d["plans"][2]["tiers"]["A"].update(months=[5]),
            r"plan 3 \(MR-SPECEQ\) tiers\.A\.months: \[5\] are not months of the plan",
        ),
        (lambda d: d["plans"][2].update(months=[3, 13]), r"plan 3 \(MR-SPECEQ\) months: must be \"every\" or"),
        (lambda d: d["plans"][2].update(months="monthly"), r"plan 3 \(MR-SPECEQ\) months: must be \"every\" or"),
        (lambda d: d["plans"][2].update(months=[3, 3]), r"plan 3 \(MR-SPECEQ\) months: lists a month twice"),
        (lambda d: d["plans"][2].update(workload_cap=0), r"plan 3 \(MR-SPECEQ\) workload_cap: must be a positive"),
        (lambda d: d["plans"][2].update(id="mr_speceq"), r"plan 3 \(mr_speceq\) id: 'mr_speceq' must be"),
        (lambda d: d["plans"][2].update(id="MR-2024"), r"plan 3 \(MR-2024\) id: 'MR-2024' must be"),
        (lambda d: d["plans"][2].update(id="MR-FOOD"), r"plans: plan id\(s\) \['MR-FOOD'\] appear more than once"),
        # The legal floor of the publicity-information check (《企业公示信息抽查办法》: 3 % a year).
        (
            lambda d: d["plans"][0]["tiers"]["A"].update(ratio="0.02"),
            r"plan 1 \(MR-GENERAL\) tiers: annual ratio of tier\(s\) \['A'\] below the legal floor 0.03",
        ),
        (
            lambda d: d["plans"][0].update(scope={"industries": ["C"]}),
            r"plan 1 \(MR-GENERAL\) scope: a publicity-information plan must cover every enterprise",
        ),
        (
            lambda d: (d["plans"][0].update(exclusions={"skip_tier_a_routine": True}), d["plans"][0]["tiers"].pop("A")),
            r"plan 1 \(MR-GENERAL\) exclusions: a publicity-information plan cannot skip A-tier",
        ),
    ],
)
def test_bad_plans_are_refused_naming_the_file_and_the_plan(tmp_path: Path, edit, message: str) -> None:
    with pytest.raises(ValueError, match=r"sampling_plans\.yaml.*" + message):
        load_plans(write_variant(tmp_path, edit))


def test_the_floor_holds_at_exactly_three_percent_and_for_non_publicity_plans_not_at_all(tmp_path: Path) -> None:
    def edit(d: dict) -> None:
        d["plans"][0]["tiers"]["B"]["ratio"] = "0.030"
        d["plans"][5]["tiers"]["A"]["ratio"] = "0.001"  # JT-STHJJ is no publicity check: no floor

    plans = {p.id: p for p in load_plans(write_variant(tmp_path, edit))}
    assert plans["MR-GENERAL"].tiers["B"].ratio == "0.030"
    assert plans["JT-STHJJ"].tiers["A"].ratio == "0.001"


def test_towns_by_code_or_name(tmp_path: Path) -> None:
    plan = plan_of(tmp_path, scope={"towns": ["古镇镇", 442000110, "442000118"]})
    assert plan.scope.towns == ("442000105", "442000110", "442000118")


# --- per-draw rates --------------------------------------------------------------------------------------


def tier_month(plan_calendar_month: int, year: int = 2024) -> str:
    """The tier month M whose plan runs in the given calendar month (M+1)."""
    m = dt.date(year, plan_calendar_month, 1) - dt.timedelta(days=1)
    return f"{m:%Y-%m}"


def test_a_year_of_quarterly_batches(tmp_path: Path) -> None:
    plan = plan_of(
        tmp_path,
        months=[3, 6, 9, 12],
        tiers={t: {"ratio": r} for t, r in zip("ABCD", ("0.20", "1", "0.03", "0.5"), strict=True)},
    )
    rates = {t: [per_draw_rate(plan, t, tier_month(m)) for m in (3, 6, 9, 12)] for t in "ABCD"}
    # The first batch of the year is the annual ratio split evenly, exactly: 0.20 / 4 = 0.05.
    assert rates["A"][0] == "0.05"
    # Later batches draw from what the earlier ones left: 0.20 / (4 − i × 0.20), rounded up to 6 decimals.
    assert rates["A"] == ["0.05", "0.052632", "0.055556", "0.058824"]
    # Key items at 100 %: everyone once a year, the last batch takes all who are left.
    assert rates["B"] == ["0.25", "0.333334", "0.5", "1"]
    # 0.03 / 3.97 = 0.0075566…, 0.03 / 3.94 = 0.0076142…, 0.03 / 3.91 = 0.0076726…: always rounded up.
    assert rates["C"] == ["0.0075", "0.007557", "0.007615", "0.007673"]
    assert rates["D"][0] == "0.125"
    assert per_draw_rate(plan, "A", tier_month(4)) == "0"  # not a draw month
    for t in "ABCD":
        for r in rates[t]:
            protocol.parse_rate(t, r)  # every rate is a protocol v1 rate string


@pytest.mark.parametrize("ratio", ["0.03", "0.05", "0.15", "0.20", "0.6", "1", "0.007"])
@pytest.mark.parametrize("months", [[6], [3, 6, 9, 12], list(range(1, 13)), [1, 7]])
def test_the_batches_of_a_year_reach_the_annual_ratio(tmp_path: Path, ratio: str, months: list[int]) -> None:
    plan = plan_of(tmp_path, months=months, tiers={t: {"ratio": ratio} for t in "ABCD"})
    left = Decimal(1)
    for m in months:
        left *= 1 - Decimal(per_draw_rate(plan, "B", tier_month(m)))
    reached = 1 - left
    # Never below the annual ratio (rates are rounded up), above it by rounding only.
    assert Decimal(ratio) <= reached <= Decimal(ratio) + Decimal("0.000001") * len(months)


def test_the_legal_floor_is_reached_on_a_steady_population() -> None:
    """MR-GENERAL over a calendar year on a frame that only loses whom it drew: ≥ 3 % of every tier."""
    general = next(p for p in load_plans() if p.id == "MR-GENERAL")
    for tier, rule in general.tiers.items():
        for population in (1, 99, 10_001, 282_000):
            left, drawn = population, 0
            for m in general.months:
                n = protocol.stratum_sizes({tier: left}, {tier: per_draw_rate(general, tier, tier_month(m))})[tier]
                drawn, left = drawn + n, left - n
            quota = Decimal(rule.ratio) * population
            assert quota <= drawn <= quota + 2 * len(general.months), (tier, population, drawn)
            assert drawn >= Decimal("0.03") * population


def test_tiers_outside_their_months_and_a_under_no_disturbance_draw_nothing(tmp_path: Path) -> None:
    plan = plan_of(
        tmp_path,
        months=[3, 6],
        tiers={"B": {"ratio": "0.05", "months": [6]}, "C": {"ratio": "0.2"}, "D": {"ratio": "1"}},
        exclusions={"skip_tier_a_routine": True},
    )
    assert frames.frame_rates(plan, tier_month(3)) == {"C": "0.1", "D": "0.5"}
    assert frames.frame_rates(plan, tier_month(6)) == {"B": "0.05", "C": "0.111112", "D": "1"}
    assert per_draw_rate(plan, "A", tier_month(6)) == "0"
    with pytest.raises(ValueError, match="tier 'E'"):
        per_draw_rate(plan, "E", tier_month(6))


def test_plan_ids_and_active_plans_follow_the_month_after() -> None:
    plans = {p.id: p for p in load_plans()}
    assert frames.plan_id(plans["MR-GENERAL"], "2024-03") == "MR-GENERAL-2024-04"
    assert frames.plan_id(plans["MR-GENERAL"], "2024-12-01") == "MR-GENERAL-2025-01"  # next calendar year
    # Quarterly plans draw in March, June, September, December: from the tiers of Feb, May, Aug, Nov.
    assert "MR-SPECEQ" in {p.id for p in frames.plans_active(list(plans.values()), "2024-02")}
    assert "MR-SPECEQ" not in {p.id for p in frames.plans_active(list(plans.values()), "2024-03")}
    # December's tiers start the new year: the first batch, not the last.
    assert per_draw_rate(plans["MR-GENERAL"], "D", "2024-12") == "0.05"
    with pytest.raises(ValueError, match="YYYY-MM"):
        frames.plan_id(plans["MR-GENERAL"], "2024-13")


# --- the frame on a tiny warehouse ---------------------------------------------------------------------

# uscc: (tier in M or None, industry, town, registry status at the end of M)
ENTERPRISES: dict[str, tuple[str | None, str, str, str]] = {
    "IN-A": ("A", "C3872", "442000105", "存续"),
    "IN-B": ("B", "C3879", "442000105", "在业"),
    "IN-C": ("C", "F5136", "442000110", "存续"),
    "IN-D": ("D", "C3872", "442000110", "存续"),
    "IN-DRAWN-LAST-YEAR": ("C", "C3872", "442000105", "存续"),
    "IN-OTHER-PLAN": ("C", "C3872", "442000105", "存续"),  # drawn for MR-XY, a different prefix
    "IN-DELIVERED-LATER": ("C", "C3872", "442000105", "存续"),  # its inspection is delivered after M
    "IN-OWN-PLAN": ("C", "C3872", "442000105", "存续"),  # in this very plan (sampling.plan): rerun-safe
    "IN-DEREGISTERED-LATER": ("B", "C3872", "442000105", "存续"),  # 注销 recorded after M
    "OUT-INDUSTRY": ("B", "C3854", "442000105", "存续"),  # 厨房电器, not lighting
    "OUT-TOWN": ("B", "C3872", "442000118", "存续"),  # 小榄
    "OUT-DEAD": ("B", "C3872", "442000105", "注销"),  # still in the tiers (stale), but deregistered
    "OUT-NOT-TIERED": (None, "C3872", "442000105", "存续"),  # no tier in M (e.g. out of the classification)
    "OUT-DRAWN-INSPECTED": ("D", "C3872", "442000105", "存续"),  # inspected for MR-X-2024-02
    "OUT-DRAWN-PLANNED": ("B", "C3872", "442000110", "存续"),  # in our own plan MR-X-2024-03
}
EXPECTED = {u for u in ENTERPRISES if u.startswith("IN-")}

TABLES = """
CREATE SCHEMA staging; CREATE SCHEMA tiers;
CREATE TABLE tiers.enterprise_monthly (month DATE, uscc VARCHAR, tier VARCHAR);
CREATE TABLE staging.registry (uscc VARCHAR, industry_code VARCHAR, town_code VARCHAR, status VARCHAR,
    record_date DATE, _delivery_month DATE, _source_file VARCHAR, _row_number BIGINT);
CREATE TABLE staging.licenses (license_no VARCHAR, uscc VARCHAR, domain VARCHAR, issued_on DATE, expires_on DATE,
    status VARCHAR, _delivery_month DATE, _source_file VARCHAR, _row_number BIGINT);
CREATE TABLE staging.inspections (plan_id VARCHAR, uscc VARCHAR, _delivery_month DATE);
"""


@pytest.fixture
def conn() -> Iterator[duckdb.DuckDBPyConnection]:
    """The few columns sql/intermediate/sampling.frame.sql#candidates reads, with the enterprises above in tier
    month 2024-03."""
    c = duckdb.connect()
    c.execute(TABLES)
    for i, (uscc, (tier, industry, town, status)) in enumerate(ENTERPRISES.items()):
        if tier is not None:
            c.execute("INSERT INTO tiers.enterprise_monthly VALUES (?, ?, ?)", [M, uscc, tier])
            c.execute("INSERT INTO tiers.enterprise_monthly VALUES ('2024-02-01', ?, 'A')", [uscc])
        # Established in 2020 as 存续, then the state at the end of M (a change recorded in March).
        c.execute(
            "INSERT INTO staging.registry VALUES (?, ?, ?, '存续', '2020-01-01', '2024-01-01', 'r1.csv', ?)",
            [uscc, industry, town, i],
        )
        if status != "存续":
            c.execute(
                "INSERT INTO staging.registry VALUES (?, ?, ?, ?, '2024-03-10', '2024-03-01', 'r2.csv', ?)",
                [uscc, industry, town, status, i],
            )
    c.execute(
        "INSERT INTO staging.registry VALUES "
        "('IN-DEREGISTERED-LATER', 'C3872', '442000105', '注销', '2024-03-20', '2024-04-01', 'r3.csv', 1)"
    )
    c.execute("INSERT INTO tiers.enterprise_monthly VALUES (?, 'OUT-NOT-TIERED-ELSEWHERE', 'B')", [M])
    c.execute(
        "INSERT INTO staging.inspections VALUES "
        "('MR-X-2024-02', 'OUT-DRAWN-INSPECTED', '2024-02-01'),"
        "('MR-X-2023-11', 'IN-DRAWN-LAST-YEAR', '2023-11-01'),"
        "('MR-XY-2024-02', 'IN-OTHER-PLAN', '2024-02-01'),"
        "('MR-X-2024-03', 'IN-DELIVERED-LATER', '2024-04-01')"
    )
    yield c
    c.close()


def lighting_plan(tmp_path: Path, **fields: Any) -> plan_policy.SamplingPlan:
    """Lighting (C387 and F5136) in 古镇 and 横栏, 无事不扰 for A-tier."""
    return plan_of(
        tmp_path,
        scope={"industries": ["C387", "F5136"], "towns": ["古镇镇", "横栏镇"]},
        tiers={t: {"ratio": "0.5"} for t in "BCD"},
        exclusions={"skip_tier_a_routine": True},
        **fields,
    )


def frame_rows(conn: duckdb.DuckDBPyConnection, plan_id: str | None = None) -> list[tuple]:
    where = "WHERE plan_id = $p" if plan_id else ""
    return conn.execute(
        f"SELECT * FROM sampling.frame {where} ORDER BY month, plan_id, stratum, uscc",
        {"p": plan_id} if plan_id else {},
    ).fetchall()


def add_own_plan_table(conn: duckdb.DuckDBPyConnection) -> None:
    conn.execute("CREATE TABLE sampling.plan (plan_id VARCHAR, uscc VARCHAR, selected BOOLEAN)")
    conn.execute(
        "INSERT INTO sampling.plan VALUES ('MR-X-2024-03', 'OUT-DRAWN-PLANNED', true),"
        "('MR-X-2024-04', 'IN-OWN-PLAN', true), ('MR-X-2023-12', 'IN-A', true)"
    )


def test_frame_keeps_exactly_the_eligible_enterprises_once(tmp_path: Path, conn: duckdb.DuckDBPyConnection) -> None:
    plan = lighting_plan(tmp_path)
    conn.execute("CREATE SCHEMA sampling")
    add_own_plan_table(conn)
    rows = frames.build_frame(conn, plan, MONTH)

    got = conn.execute("SELECT uscc FROM sampling.frame WHERE plan_id = 'MR-X-2024-04'").fetchall()
    usccs = [u for (u,) in got]
    assert sorted(usccs) == sorted(EXPECTED - {"IN-A"})  # A-tier left out under 无事不扰
    assert len(usccs) == len(set(usccs)) == rows
    row = conn.execute(
        "SELECT month, tier, stratum, town_code, town_no, industry_code, industry_section, industry_division "
        "FROM sampling.frame WHERE uscc = 'IN-C'"
    ).fetchone()
    assert row == (M, "C", "C", "442000110", 110, "F5136", "F", "51")


def test_without_the_no_disturbance_flag_a_tier_is_in_the_frame(
    tmp_path: Path, conn: duckdb.DuckDBPyConnection
) -> None:
    plan = plan_of(tmp_path, scope={"industries": ["C387", "F5136"], "towns": ["442000105", "442000110"]})
    frames.build_frame(conn, plan, MONTH)
    usccs = {u for (u,) in conn.execute("SELECT uscc FROM sampling.frame").fetchall()}
    # No sampling.plan table yet: the enterprise of our own earlier plan is only caught once that exists.
    assert usccs == EXPECTED | {"OUT-DRAWN-PLANNED"}


def test_a_sampling_plan_table_without_plan_id_or_uscc_is_an_error(
    tmp_path: Path, conn: duckdb.DuckDBPyConnection
) -> None:
    conn.execute("CREATE SCHEMA sampling; CREATE TABLE sampling.plan (id VARCHAR, enterprise VARCHAR)")
    with pytest.raises(RuntimeError, match=r"sampling\.plan lacks plan_id or uscc"):
        frames.build_frame(conn, lighting_plan(tmp_path), MONTH)


def test_licence_scope_counts_licences_valid_at_month_end(tmp_path: Path, conn: duckdb.DuckDBPyConnection) -> None:
    conn.execute(
        "INSERT INTO staging.licenses VALUES "
        "('L1', 'IN-B', 'food', '2020-01-01', '2026-01-01', '有效', '2024-01-01', 'l.csv', 1),"  # valid
        "('L2', 'IN-C', 'food', '2020-01-01', NULL, NULL, '2024-01-01', 'l.csv', 2),"  # no end, no status: valid
        "('L3', 'IN-D', 'food', '2020-01-01', '2024-03-30', '有效', '2024-01-01', 'l.csv', 3),"  # expired in M
        "('L4', 'IN-DRAWN-LAST-YEAR', 'food', '2020-01-01', '2026-01-01', '有效', '2024-01-01', 'l.csv', 4),"
        "('L4', 'IN-DRAWN-LAST-YEAR', 'food', '2020-01-01', '2026-01-01', '吊销', '2024-03-01', 'l.csv', 1),"
        "('L5', 'IN-OTHER-PLAN', 'drug', '2020-01-01', '2026-01-01', '有效', '2024-01-01', 'l.csv', 5),"  # domain
        "('L6', 'IN-OWN-PLAN', 'food', '2024-03-05', '2026-01-01', '有效', '2024-04-01', 'l.csv', 6),"  # late
        "('L7', 'OUT-DEAD', 'food', '2020-01-01', '2026-01-01', '有效', '2024-01-01', 'l.csv', 7),"  # dead
        "('L8', 'IN-A', 'food', '2020-01-01', '2026-01-01', '有效', '2024-01-01', 'l.csv', 8),"
        "('L9', 'IN-A', 'food', '2021-01-01', '2026-01-01', '有效', '2024-01-01', 'l.csv', 9)"  # two licences
    )
    plan = plan_of(tmp_path, scope={"licence_domains": ["food", "cosmetics"]})
    frames.build_frame(conn, plan, MONTH)
    usccs = [u for (u,) in conn.execute("SELECT uscc FROM sampling.frame").fetchall()]
    assert sorted(usccs) == ["IN-A", "IN-B", "IN-C"]


def test_pi_per_stratum_is_n_over_n_of_the_protocol(tmp_path: Path, conn: duckdb.DuckDBPyConnection) -> None:
    # 46 more enterprises in scope: 7 each in A, B and D, 25 in C; with the 12 eligible above, N = 8/12/30/8.
    for i in range(46):
        uscc, tier = f"EXTRA-{i:02d}", "ABD"[i % 3] if i < 21 else "C"
        conn.execute("INSERT INTO tiers.enterprise_monthly VALUES (?, ?, ?)", [M, uscc, tier])
        conn.execute(
            "INSERT INTO staging.registry VALUES (?, 'C3872', '442000105', '存续', '2020-01-01', '2024-01-01', 'x', ?)",
            [uscc, i],
        )
    plan = plan_of(
        tmp_path,
        months=[4, 8, 12],
        tiers={"A": {"ratio": "0.03"}, "B": {"ratio": "0.1"}, "C": {"ratio": "0.3"}, "D": {"ratio": "1"}},
    )
    rates = frames.frame_rates(plan, MONTH)  # the first of three batches: a third of each annual ratio
    assert rates == {"A": "0.01", "B": "0.033334", "C": "0.1", "D": "0.333334"}
    frames.build_frame(conn, plan, MONTH)

    counts = dict(conn.execute("SELECT stratum, count(*) FROM sampling.frame GROUP BY stratum").fetchall())
    assert counts == {"A": 8, "B": 12, "C": 30, "D": 8}
    sizes = protocol.stratum_sizes(counts, rates)
    # By hand: ceil(0.08), ceil(0.400008), 0.1 × 30 = 3 exactly (binary floats: 3.0000000000000004 → 4),
    # ceil(2.666672).
    assert sizes == {"A": 1, "B": 1, "C": 3, "D": 3}
    got = conn.execute(
        "SELECT DISTINCT stratum, rate, frame_size, sample_size, inclusion_probability FROM sampling.frame"
    ).fetchall()
    assert len(got) == len(counts)  # one (rate, N, n, π) per stratum
    for stratum, rate, big_n, n, pi in got:
        assert (rate, big_n, n) == (rates[stratum], counts[stratum], sizes[stratum])
        assert pi == sizes[stratum] / counts[stratum]

    # The frame is what the draw takes: the achieved n per stratum is the frame's n.
    frame = conn.execute("SELECT uscc, stratum FROM sampling.frame").df()
    selection = protocol.draw(conn, frame, rates, SEED, frames.plan_id(plan, MONTH))
    assert selection["stratum"].value_counts().to_dict() == sizes


def test_rerunning_the_month_gives_the_same_rows(tmp_path: Path, conn: duckdb.DuckDBPyConnection) -> None:
    plan = lighting_plan(tmp_path)
    other = plan_of(tmp_path, id="MR-Y")
    first = frames.build_frame(conn, plan, MONTH)
    frames.build_frame(conn, other, MONTH)
    frames.build_frame(conn, other, "2024-02")
    before = frame_rows(conn)

    assert frames.build_frame(conn, plan, MONTH) == first
    assert frame_rows(conn) == before

    # New data for M replaces the plan's month, and only it.
    conn.execute("UPDATE tiers.enterprise_monthly SET tier = 'A' WHERE uscc = 'IN-D' AND month = ?", [M])
    assert frames.build_frame(conn, plan, MONTH) == first - 1
    assert frame_rows(conn, "MR-Y-2024-04") == [r for r in before if r[1] == "MR-Y-2024-04"]
    assert frame_rows(conn, "MR-Y-2024-03") == [r for r in before if r[1] == "MR-Y-2024-03"]


def test_a_plan_not_drawing_this_month_writes_no_frame(tmp_path: Path, conn: duckdb.DuckDBPyConnection) -> None:
    plan = plan_of(tmp_path, months=[6])
    assert frames.plans_active([plan], MONTH) == []
    assert frames.build_frame(conn, plan, MONTH) == 0
    assert frame_rows(conn) == []


def test_the_plans_of_a_month_are_written_together(
    tmp_path: Path, conn: duckdb.DuckDBPyConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    plans = [lighting_plan(tmp_path), plan_of(tmp_path, id="MR-Y")]
    assert frames.build_frames(conn, plans, MONTH) == {"MR-X": 9, "MR-Y": 13}
    together = frame_rows(conn)
    conn.execute("DELETE FROM sampling.frame")
    for plan in plans:
        frames.build_frame(conn, plan, MONTH)
    assert frame_rows(conn) == together  # one base for the month, the same frames as plan by plan

    # A failure in any plan leaves every frame of the month as it was.
    conn.execute("UPDATE tiers.enterprise_monthly SET tier = 'B' WHERE month = ?", [M])
    calls: list[int] = []

    def failing(counts, rates):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return draw_sizes(counts, rates)

    draw_sizes = protocol.stratum_sizes
    monkeypatch.setattr(protocol, "stratum_sizes", failing)
    with pytest.raises(RuntimeError, match="disk full"):
        frames.build_frames(conn, plans, MONTH)
    assert frame_rows(conn) == together
    with pytest.raises(ValueError, match="distinct"):
        frames.build_frames(conn, [plans[0], plans[0]], MONTH)
