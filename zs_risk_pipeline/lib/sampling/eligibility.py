"""Inspector eligibility (检查人员匹配的静态约束) of a drawn plan, draw protocol v1 (design.md §4, §6).

For the plan drawn from the tiers of month M and carried out in M+1, an inspector may take the task of a
selected enterprise when all of these hold (sql/intermediate/eligibility.sql):

- in the latest inspector snapshot (执法检查人员名录库) delivered by M, active (在岗), and with a certificate
  (执法证) valid until at least the last day of M+1;
- of the plan's department (member unit, 成员单位);
- of the enterprise's branch (分局 = its town code in the registry version known at the end of M) or of
  city level ('city', who may inspect anywhere);
- qualified for the domain of every item of the plan ('general' items need 'general');
- no declared conflict of interest (回避关系) with the enterprise, declared by the end of M;
- not one of the inspectors of the enterprise within the 12 months before M+1.

The result is eligibility.csv of the verification package: lib/sampling/protocol.py `assign()` takes it and applies the
workload cap itself. Set-based in DuckDB: the selection can be ~15,000 tasks × ~3,000 inspectors.

- `eligibility(conn, plan, month, selection)`: the eligible pairs and the summary, in one pass.
- `eligible_pairs(...)`, `eligibility_summary(...)`: either one of them.
- `inspector_pool(conn, plan, month)`: the directory's inspectors who pass every inspector-level constraint, whom
  the plan's draw may pair (before branch, conflicts and recent inspections): the plan's capacity.

Plain Python, no Dagster.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import duckdb
import pandas as pd

from zs_risk_pipeline.lib.core.month import Month
from zs_risk_pipeline.lib.core.sql import drop, load_sql, run_sql
from zs_risk_pipeline.lib.sampling import frames, plan_policy

COLUMNS = ("uscc", "inspector_id")
# Summary keys of the constraints, in the order each candidate pair is attributed to the first one it fails.
CONSTRAINTS = ("department", "inactive", "certificate", "qualification", "branch", "conflict", "recent_inspection")
SUMMARY_KEYS = (
    "snapshot_month",
    "tasks",
    "tasks_without_town",
    "inspectors",
    "candidates",
    *(f"excluded_{c}" for c in CONSTRAINTS),
    "eligible",
)


def eligibility_params(plan: plan_policy.SamplingPlan, month: str | dt.date) -> dict[str, Any]:
    """Named parameters of sql/intermediate/eligibility.sql for the plan drawn from the tiers of month M."""
    inspection_month = frames.plan_month(month)  # M+1; validates `month`
    m = Month.of(inspection_month).previous()
    return {
        "month": m.start,
        "month_end": m.end,
        "plan_month_end": Month.of(inspection_month.isoformat()).end,
        # Not the same inspector on the same enterprise within the 12 months before M+1.
        "recent_since": inspection_month.replace(year=inspection_month.year - 1),
        "department": plan.department,
        "domains": sorted({item.domain for item in plan.items}),
    }


def _check_selection(selection: pd.DataFrame) -> pd.DataFrame:
    if "uscc" not in selection.columns:
        raise ValueError("selection lacks column uscc")
    tasks = selection[["uscc"]]
    if tasks["uscc"].isna().any():
        raise ValueError("selection: column uscc has empty values")
    if len(tasks) and not pd.api.types.is_string_dtype(tasks["uscc"]):
        raise ValueError("selection: column uscc must hold text")
    duplicated = tasks["uscc"].duplicated()
    if duplicated.any():
        # One task per enterprise: a repeated uscc would be two tasks sharing one eligibility list.
        raise ValueError(f"selection: uscc {tasks['uscc'][duplicated].iloc[0]} appears more than once")
    return tasks


def eligibility(
    conn: duckdb.DuckDBPyConnection, plan: plan_policy.SamplingPlan, month: str | dt.date, selection: pd.DataFrame
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The eligible pairs and the summary of why candidates were excluded, for the plan drawn from the tiers
    of month M (`month`, 'YYYY-MM' or a first day) whose selected enterprises are `selection` (column uscc,
    e.g. the output of draw.draw; other columns are ignored).

    Pairs: DataFrame[uscc, inspector_id] sorted by uscc, inspector_id (byte-wise), unique. A selected
    enterprise nobody may inspect has no row; draw.assign still gives its task an unassigned_reason.

    Summary (flat, for asset metadata): snapshot_month (ISO date of the directory snapshot used), tasks,
    tasks_without_town (no registry version known at the end of M: only city-level staff match),
    inspectors (in the snapshot), candidates = tasks × inspectors, then excluded_<constraint> for each of
    CONSTRAINTS, and eligible. Each candidate pair is counted once, under the first constraint it fails in
    the order of CONSTRAINTS, so candidates == eligible + Σ excluded_*; the inspector-level counts
    (department .. qualification) are tasks × the inspectors failing them.

    Raises LookupError when no inspector snapshot was delivered by M: a plan is immutable once published,
    and staffing it from a missing directory would publish every task as unstaffable.
    """
    tasks = _check_selection(selection)
    params = eligibility_params(plan, month)
    conn.register("_eligibility_selection", tasks)
    try:
        run_sql(conn, "intermediate/eligibility.sql#inspectors", params)
        row = run_sql(conn, "intermediate/eligibility.sql#candidates", params)[0]
        summary = dict(zip(SUMMARY_KEYS, row, strict=True))
        if summary["snapshot_month"] is None:
            raise LookupError(
                f"no inspector directory (staging.inspectors) delivered by {params['month']:%Y-%m}: "
                f"cannot staff plan {frames.plan_id(plan, month)}"
            )
        pairs = conn.execute(load_sql("intermediate/eligibility.sql#pairs")).df()
    finally:
        conn.unregister("_eligibility_selection")
        drop(conn, "temp._eligibility_candidates", "temp._eligibility_tasks", "temp._eligibility_inspectors")

    summary = {k: (v.isoformat() if isinstance(v, dt.date) else int(v)) for k, v in summary.items()}
    # Cross-check of the two queries: the summary's funnel must add up to what is handed to draw.assign.
    excluded = sum(summary[f"excluded_{c}"] for c in CONSTRAINTS)
    if summary["eligible"] != len(pairs) or summary["candidates"] != summary["eligible"] + excluded:
        raise RuntimeError(f"eligibility summary does not add up: {summary} for {len(pairs)} pairs")
    pairs = pairs.astype({c: object for c in COLUMNS})[list(COLUMNS)].reset_index(drop=True)
    return pairs, summary


def eligible_pairs(
    conn: duckdb.DuckDBPyConnection, plan: plan_policy.SamplingPlan, month: str | dt.date, selection: pd.DataFrame
) -> pd.DataFrame:
    """DataFrame[uscc, inspector_id] of the inspectors passing every static constraint (see `eligibility`)."""
    return eligibility(conn, plan, month, selection)[0]


def eligibility_summary(
    conn: duckdb.DuckDBPyConnection, plan: plan_policy.SamplingPlan, month: str | dt.date, selection: pd.DataFrame
) -> dict[str, Any]:
    """Counts of why candidate pairs were excluded, per constraint (see `eligibility`)."""
    return eligibility(conn, plan, month, selection)[1]


def inspector_pool(
    conn: duckdb.DuckDBPyConnection, plan: plan_policy.SamplingPlan, month: str | dt.date
) -> tuple[dt.date | None, int]:
    """(snapshot month of the directory in force, or None when none was delivered by M; how many of its inspectors
    are of the plan's department, active, certified through M+1 and qualified for every item of the plan) for the
    plan drawn from the tiers of month M: the inspectors its draw may pair, by the same rules as `eligibility`."""
    try:
        run_sql(conn, "intermediate/eligibility.sql#inspectors", eligibility_params(plan, month))
        snapshot, pool = run_sql(conn, "intermediate/eligibility.sql#pool")[0]
    finally:
        drop(conn, "temp._eligibility_inspectors")
    return snapshot, int(pool)
