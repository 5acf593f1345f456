"""Inspector eligibility (检查人员匹配的静态约束, draw-v1 eligibility.csv): each static constraint excludes an
inspector for exactly its reason and admits it otherwise, point in time at month M, on a hand-built tiny
warehouse whose staging tables are created by the real staging DDL."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest
import yaml

from zs_risk_pipeline.lib.core.sql import load_sql
from zs_risk_pipeline.lib.sampling import eligibility, plan_policy, protocol

MONTH = "2024-03"  # the tier month M; the plan is carried out in 2024-04
M = dt.date(2024, 3, 1)
BEFORE_M = dt.date(2024, 2, 1)
AFTER_M = dt.date(2024, 4, 1)
T1, T2 = "442000105", "442000106"  # 古镇镇, another town
E1, E2, E3 = "91442000000000001A", "91442000000000002B", "91442000000000003C"
SEED = "0123456789abcdef" * 4

BASE: dict[str, Any] = {
    "inspector_id": "X",
    "department": "SCJGJ",
    "branch": T1,
    "qualifications": ["food", "general"],
    "certificate_valid_until": dt.date(2024, 4, 30),  # the last day of M+1: valid throughout it
    "active": True,
}


@pytest.fixture
def conn() -> Iterator[duckdb.DuckDBPyConnection]:
    c = duckdb.connect()
    for source in ("inspectors", "conflicts", "inspections", "registry"):
        # The definition of the real staging table: the tests read the columns the pipeline writes.
        c.execute(load_sql(f"staging/staging.{source}.sql"))
    registry(c, E1, T1)
    registry(c, E2, T2)
    yield c
    c.close()


@pytest.fixture
def plan(tmp_path: Path) -> plan_policy.SamplingPlan:
    """A plan of SCJGJ whose items need two domains, loaded and validated like an operator's."""
    raw = {
        "id": "MR-X",
        "name_zh": "测试抽查",
        "department": "SCJGJ",
        "items": [
            {"name_zh": "食品经营许可条件保持情况", "domain": "food", "type": "key"},
            {"name_zh": "企业年度报告公示信息", "domain": "general", "type": "general"},
        ],
        "tiers": {t: {"ratio": "0.5"} for t in "ABCD"},
        "months": "every",
        "workload_cap": 10,
    }
    path = tmp_path / "plans.yaml"
    path.write_text(yaml.safe_dump({"version": 1, "plans": [raw]}, allow_unicode=True), encoding="utf-8")
    return plan_policy.load_plans(path)[0]


def _lineage(delivery: dt.date, row: int) -> dict[str, Any]:
    return {
        "_delivery_month": delivery,
        "_source_file": f"{delivery:%Y-%m}/file.csv",
        "_file_sha256": "0" * 64,
        "_row_number": row,
    }


def _insert(conn: duckdb.DuckDBPyConnection, table: str, rows: list[dict[str, Any]]) -> None:
    for row in rows:
        columns = ", ".join(row)
        marks = ", ".join(f"${c}" for c in row)
        conn.execute(f"INSERT INTO staging.{table} ({columns}) VALUES ({marks})", row)


def inspectors(conn: duckdb.DuckDBPyConnection, rows: list[dict[str, Any]], delivery: dt.date = M) -> None:
    """One full directory snapshot delivered in `delivery`; each row overrides BASE."""
    _insert(conn, "inspectors", [{**BASE, **r, **_lineage(delivery, n)} for n, r in enumerate(rows, start=1)])


def registry(
    conn: duckdb.DuckDBPyConnection, uscc: str, town: str, delivery: dt.date = BEFORE_M, recorded: dt.date | None = None
) -> None:
    row = {
        "uscc": uscc,
        "name": "测试有限公司",
        "entity_type": "有限责任公司",
        "industry_code": "F5221",
        "town_code": town,
        "established_on": dt.date(2015, 1, 1),
        "status": "存续",
        "legal_rep_hash": "h",
        "record_date": recorded or delivery,
    }
    _insert(conn, "registry", [{**row, **_lineage(delivery, 1)}])


def conflict(conn: duckdb.DuckDBPyConnection, inspector: str, uscc: str, declared: dt.date, delivery: dt.date) -> None:
    _insert(
        conn, "conflicts", [{"inspector_id": inspector, "uscc": uscc, "declared_on": declared, **_lineage(delivery, 1)}]
    )


def inspection(
    conn: duckdb.DuckDBPyConnection, uscc: str, inspector_ids: list[str] | None, on: dt.date, delivery: dt.date
) -> None:
    row = {
        "task_id": f"T-{uscc}-{on}",
        "uscc": uscc,
        "inspected_on": on,
        "trigger": "random",
        "result_codes": ["NO_ISSUE"],
        "problem_found": False,
        "inspector_ids": inspector_ids,
    }
    _insert(conn, "inspections", [{**row, **_lineage(delivery, 1)}])


def selection(*usccs: str) -> pd.DataFrame:
    return pd.DataFrame({"uscc": list(usccs)}, dtype=object)


def pairs_of(frame: pd.DataFrame) -> list[tuple[str, str]]:
    return list(zip(frame["uscc"], frame["inspector_id"], strict=True))


def excluded(summary: dict[str, Any]) -> dict[str, int]:
    """The non-zero excluded_* counts."""
    return {k: v for k, v in summary.items() if k.startswith("excluded_") and v}


# --- the month's dates -------------------------------------------------------------------------------------


def test_params_of_tier_month(plan: plan_policy.SamplingPlan) -> None:
    for month in (MONTH, "2024-03-01", M):
        assert eligibility.eligibility_params(plan, month) == {
            "month": M,
            "month_end": dt.date(2024, 3, 31),
            "plan_month_end": dt.date(2024, 4, 30),
            "recent_since": dt.date(2023, 4, 1),
            "department": "SCJGJ",
            "domains": ["food", "general"],
        }
    december = eligibility.eligibility_params(plan, "2024-12")  # M+1 in the next year
    assert december["plan_month_end"] == dt.date(2025, 1, 31)
    assert december["recent_since"] == dt.date(2024, 1, 1)


# --- one test per constraint: excluded for exactly its reason, included otherwise --------------------------


def test_base_inspector_is_eligible(conn: duckdb.DuckDBPyConnection, plan: plan_policy.SamplingPlan) -> None:
    inspectors(conn, [{}])
    pairs, summary = eligibility.eligibility(conn, plan, MONTH, selection(E1))
    assert pairs_of(pairs) == [(E1, "X")]
    assert summary["eligible"] == 1 and excluded(summary) == {}


@pytest.mark.parametrize(
    ("override", "reason"),
    [
        ({"department": "WSJKJ"}, "department"),
        ({"active": False}, "inactive"),
        # Expires during M+1 (the day before its last day): not valid throughout the inspection month.
        ({"certificate_valid_until": dt.date(2024, 4, 29)}, "certificate"),
        ({"certificate_valid_until": dt.date(2024, 3, 31)}, "certificate"),
        ({"qualifications": ["food"]}, "qualification"),  # the plan also has a 'general' item
        ({"qualifications": ["general", "special_equipment"]}, "qualification"),
        ({"branch": T2}, "branch"),  # another town's branch
    ],
)
def test_inspector_constraint_excludes(
    conn: duckdb.DuckDBPyConnection, plan: plan_policy.SamplingPlan, override: dict[str, Any], reason: str
) -> None:
    inspectors(conn, [override])
    pairs, summary = eligibility.eligibility(conn, plan, MONTH, selection(E1))
    assert pairs.empty
    assert excluded(summary) == {f"excluded_{reason}": 1}
    assert summary["candidates"] == 1 and summary["eligible"] == 0


@pytest.mark.parametrize(
    "override",
    [
        {"branch": "city"},  # city-level staff may inspect anywhere
        {"certificate_valid_until": dt.date(2024, 5, 1)},
        {"qualifications": ["cosmetics", "food", "general"]},  # more qualifications than needed
    ],
)
def test_inspector_constraint_admits(
    conn: duckdb.DuckDBPyConnection, plan: plan_policy.SamplingPlan, override: dict[str, Any]
) -> None:
    inspectors(conn, [override])
    pairs, summary = eligibility.eligibility(conn, plan, MONTH, selection(E1))
    assert pairs_of(pairs) == [(E1, "X")]
    assert excluded(summary) == {}


def test_branch_is_the_enterprise_town(conn: duckdb.DuckDBPyConnection, plan: plan_policy.SamplingPlan) -> None:
    inspectors(
        conn,
        [
            {"inspector_id": "X1", "branch": T1},
            {"inspector_id": "X2", "branch": T2},
            {"inspector_id": "C", "branch": "city"},
        ],
    )
    pairs, summary = eligibility.eligibility(conn, plan, MONTH, selection(E1, E2))
    assert pairs_of(pairs) == [(E1, "C"), (E1, "X1"), (E2, "C"), (E2, "X2")]
    assert excluded(summary) == {"excluded_branch": 2}


def test_town_is_the_registry_version_known_at_the_end_of_m(
    conn: duckdb.DuckDBPyConnection, plan: plan_policy.SamplingPlan
) -> None:
    # Moved in M, but delivered after it: not known when the plan of M is drawn.
    registry(conn, E1, T2, delivery=AFTER_M, recorded=dt.date(2024, 3, 20))
    inspectors(
        conn,
        [
            {"inspector_id": "X1", "branch": T1},
            {"inspector_id": "X2", "branch": T2},
            {"inspector_id": "C", "branch": "city"},
        ],
    )
    pairs, summary = eligibility.eligibility(conn, plan, MONTH, selection(E1, E3))
    # E3 has no registry version: only city-level staff match, and the summary says so.
    assert pairs_of(pairs) == [(E1, "C"), (E1, "X1"), (E3, "C")]
    assert summary["tasks_without_town"] == 1


def test_only_the_latest_snapshot_delivered_by_m(
    conn: duckdb.DuckDBPyConnection, plan: plan_policy.SamplingPlan
) -> None:
    inspectors(conn, [{"inspector_id": "OLD"}, {"inspector_id": "X"}], delivery=dt.date(2024, 1, 1))
    inspectors(conn, [{"inspector_id": "X"}], delivery=BEFORE_M)  # the current directory: OLD has left
    inspectors(conn, [{"inspector_id": "NEW"}, {"inspector_id": "X"}], delivery=AFTER_M)  # not known at M
    pairs, summary = eligibility.eligibility(conn, plan, MONTH, selection(E1))
    # No snapshot in M itself (an identical one would be rejected as a duplicate file): February's holds.
    assert pairs_of(pairs) == [(E1, "X")]
    assert summary["snapshot_month"] == "2024-02-01" and summary["inspectors"] == 1
    assert excluded(summary) == {}  # an inspector of an older snapshot is no candidate at all


def test_snapshot_attributes_are_those_of_the_latest_snapshot(
    conn: duckdb.DuckDBPyConnection, plan: plan_policy.SamplingPlan
) -> None:
    inspectors(conn, [{}], delivery=BEFORE_M)
    inspectors(conn, [{"active": False}], delivery=M)  # left post in M
    pairs, summary = eligibility.eligibility(conn, plan, MONTH, selection(E1))
    assert pairs.empty and excluded(summary) == {"excluded_inactive": 1}


@pytest.mark.parametrize(
    ("declared", "delivery", "is_excluded"),
    [
        (dt.date(2024, 3, 15), M, True),
        (dt.date(2022, 6, 1), dt.date(2022, 6, 1), True),  # a declaration has no end date
        (dt.date(2024, 3, 31), AFTER_M, False),  # delivered after M
        (dt.date(2024, 4, 2), M, False),  # declared after the end of M
    ],
)
def test_declared_conflict(
    conn: duckdb.DuckDBPyConnection,
    plan: plan_policy.SamplingPlan,
    declared: dt.date,
    delivery: dt.date,
    is_excluded: bool,
) -> None:
    inspectors(conn, [{"inspector_id": "X"}, {"inspector_id": "Y"}])
    conflict(conn, "X", E1, declared, delivery)
    conflict(conn, "Y", E2, dt.date(2024, 3, 1), M)  # another enterprise: no effect on E1
    pairs, summary = eligibility.eligibility(conn, plan, MONTH, selection(E1))
    if is_excluded:
        assert pairs_of(pairs) == [(E1, "Y")]
        assert excluded(summary) == {"excluded_conflict": 1}
    else:
        assert pairs_of(pairs) == [(E1, "X"), (E1, "Y")]
        assert excluded(summary) == {}


@pytest.mark.parametrize(
    ("on", "delivery", "is_excluded"),
    [
        (dt.date(2023, 5, 10), dt.date(2023, 5, 1), True),  # 11 months before M+1
        (dt.date(2023, 4, 1), dt.date(2023, 4, 1), True),  # exactly 12 months before: still within
        (dt.date(2023, 3, 31), dt.date(2023, 3, 1), False),  # one day earlier
        (dt.date(2023, 3, 10), dt.date(2023, 3, 1), False),  # 13 months before M+1
        (dt.date(2024, 3, 28), AFTER_M, False),  # delivered after M: not known yet
    ],
)
def test_inspected_within_twelve_months(
    conn: duckdb.DuckDBPyConnection, plan: plan_policy.SamplingPlan, on: dt.date, delivery: dt.date, is_excluded: bool
) -> None:
    inspectors(conn, [{"inspector_id": "X"}, {"inspector_id": "Y"}])
    inspection(conn, E1, ["Z", "X"], on, delivery)  # X as the second inspector of the pair counts too
    inspection(conn, E2, ["Y"], dt.date(2024, 1, 5), dt.date(2024, 1, 1))  # another enterprise
    inspection(conn, E1, None, dt.date(2024, 2, 5), BEFORE_M)  # no inspectors recorded: no effect
    pairs, summary = eligibility.eligibility(conn, plan, MONTH, selection(E1))
    if is_excluded:
        assert pairs_of(pairs) == [(E1, "Y")]
        assert excluded(summary) == {"excluded_recent_inspection": 1}
    else:
        assert pairs_of(pairs) == [(E1, "X"), (E1, "Y")]
        assert excluded(summary) == {}


def test_general_item_needs_general(conn: duckdb.DuckDBPyConnection) -> None:
    plans = {p.id: p for p in plan_policy.load_plans()}  # the shipped config
    inspectors(
        conn, [{"inspector_id": "F", "qualifications": ["food"]}, {"inspector_id": "G", "qualifications": ["general"]}]
    )
    food = eligibility.eligible_pairs(conn, plans["MR-FOOD"], MONTH, selection(E1))
    general = eligibility.eligible_pairs(conn, plans["MR-GENERAL"], MONTH, selection(E1))
    assert pairs_of(food) == [(E1, "F")]
    assert pairs_of(general) == [(E1, "G")]


# --- the summary -------------------------------------------------------------------------------------------


def test_summary_counts_each_pair_once_under_its_first_failed_constraint(
    conn: duckdb.DuckDBPyConnection, plan: plan_policy.SamplingPlan
) -> None:
    inspectors(
        conn,
        [
            {"inspector_id": "A1"},  # T1: eligible for E1, other branch for E2
            {"inspector_id": "A2", "branch": T2},  # T2: conflict with E2, other branch for E1
            {"inspector_id": "C1", "branch": "city"},  # city: inspected E1 recently, eligible for E2
            {"inspector_id": "C2", "branch": "city"},  # city: conflict and recent on E1 → conflict
            {"inspector_id": "D1", "department": "WSJKJ", "active": False},  # department first
            {"inspector_id": "D2", "active": False, "qualifications": ["food"]},  # inactive
            {"inspector_id": "D3", "certificate_valid_until": dt.date(2024, 4, 1)},
            {"inspector_id": "D4", "qualifications": ["general"]},
        ],
    )
    conflict(conn, "A2", E2, dt.date(2024, 3, 5), M)
    conflict(conn, "C2", E1, dt.date(2024, 3, 5), M)
    inspection(conn, E1, ["C1", "C2"], dt.date(2023, 9, 1), dt.date(2023, 9, 1))
    summary = eligibility.eligibility_summary(conn, plan, MONTH, selection(E1, E2))
    assert summary == {
        "snapshot_month": "2024-03-01",
        "tasks": 2,
        "tasks_without_town": 0,
        "inspectors": 8,
        "candidates": 16,
        "excluded_department": 2,
        "excluded_inactive": 2,
        "excluded_certificate": 2,
        "excluded_qualification": 2,
        "excluded_branch": 2,  # (E1, A2), (E2, A1)
        "excluded_conflict": 2,  # (E2, A2), (E1, C2)
        "excluded_recent_inspection": 1,  # (E1, C1)
        "eligible": 3,  # (E1, A1), (E2, C1), (E2, C2)
    }
    assert list(summary) == list(eligibility.SUMMARY_KEYS)
    pairs = eligibility.eligible_pairs(conn, plan, MONTH, selection(E1, E2))
    assert pairs_of(pairs) == [(E1, "A1"), (E2, "C1"), (E2, "C2")]


def test_empty_selection(conn: duckdb.DuckDBPyConnection, plan: plan_policy.SamplingPlan) -> None:
    inspectors(conn, [{}])
    pairs, summary = eligibility.eligibility(conn, plan, MONTH, selection())
    assert pairs.empty and list(pairs.columns) == ["uscc", "inspector_id"]
    assert summary["tasks"] == 0 and summary["inspectors"] == 1 and summary["candidates"] == 0


def test_no_directory_by_m_is_refused(conn: duckdb.DuckDBPyConnection, plan: plan_policy.SamplingPlan) -> None:
    inspectors(conn, [{}], delivery=AFTER_M)
    with pytest.raises(LookupError, match=r"no inspector directory .* by 2024-03: cannot staff plan MR-X-2024-04"):
        eligibility.eligibility(conn, plan, MONTH, selection(E1))


def test_bad_selection_is_refused(conn: duckdb.DuckDBPyConnection, plan: plan_policy.SamplingPlan) -> None:
    inspectors(conn, [{}])
    with pytest.raises(ValueError, match="appears more than once"):
        eligibility.eligibility(conn, plan, MONTH, selection(E1, E1))
    with pytest.raises(ValueError, match="lacks column uscc"):
        eligibility.eligibility(conn, plan, MONTH, pd.DataFrame({"id": [E1]}))


def test_leaves_no_temp_tables_behind(conn: duckdb.DuckDBPyConnection, plan: plan_policy.SamplingPlan) -> None:
    inspectors(conn, [{}])
    eligibility.eligibility(conn, plan, MONTH, selection(E1))
    with pytest.raises(LookupError):
        eligibility.eligibility(conn, plan, "2023-01", selection(E1))
    left = conn.execute("SELECT table_name FROM duckdb_tables() WHERE table_name LIKE '_eligibility%'").fetchall()
    assert left == []
    assert conn.execute(
        "SELECT count(*) FROM duckdb_views() WHERE view_name = '_eligibility_selection'"
    ).fetchone() == (0,)


# --- deterministic ordering, and what draw.assign takes -----------------------------------------------------


def test_order_is_deterministic_and_feeds_assign(
    conn: duckdb.DuckDBPyConnection, plan: plan_policy.SamplingPlan
) -> None:
    rnd = random.Random(3)
    usccs = [f"91442000{n:09d}X" for n in range(40)]
    for u in usccs:
        registry(conn, u, rnd.choice([T1, T2]))
    ids = [f"I{n:03d}" for n in range(30)]
    rows = [{"inspector_id": i, "branch": rnd.choice([T1, T2, "city"])} for i in ids]
    rnd.shuffle(rows)
    inspectors(conn, rows)
    for u in usccs[:10]:
        conflict(conn, rnd.choice(ids), u, dt.date(2024, 3, 2), M)
        inspection(conn, u, [rnd.choice(ids), rnd.choice(ids)], dt.date(2023, 12, 1), dt.date(2023, 12, 1))

    shuffled = usccs[:]
    rnd.shuffle(shuffled)
    first = eligibility.eligible_pairs(conn, plan, MONTH, selection(*usccs))
    second = eligibility.eligible_pairs(conn, plan, MONTH, selection(*shuffled))
    pd.testing.assert_frame_equal(first, second)
    assert pairs_of(first) == sorted(pairs_of(first))  # by uscc, then inspector_id
    assert not first.duplicated().any() and len(first) > 0

    tasks = protocol.draw(
        conn, pd.DataFrame({"uscc": usccs, "stratum": "all"}, dtype=object), {"all": "1"}, SEED, "MR-X-2024-04"
    )
    assignments = protocol.assign(conn, tasks, first, SEED, "MR-X-2024-04", plan.workload_cap)
    allowed = set(pairs_of(first))
    for row in assignments.itertuples():
        if row.unassigned_reason is None:
            assert {(row.uscc, row.inspector_1), (row.uscc, row.inspector_2)} <= allowed
