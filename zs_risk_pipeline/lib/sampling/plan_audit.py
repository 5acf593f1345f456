"""Auditing the month's drawn plans (抽查计划核验): every package re-checked against the warehouse.

Plain Python, no Dagster.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import duckdb

from zs_risk_pipeline.lib.core.month import Month
from zs_risk_pipeline.lib.core.sql import run_sql
from zs_risk_pipeline.lib.sampling import amendments, drawing, frames, plan_policy

AUDITS = ("sample_sizes", "no_repeat", "pairs", "pairs_eligible", "unrecorded_facts")


def _pairs_outside_package(
    conn: duckdb.DuckDBPyConnection, pid: str, folder: Path, excluded: set[tuple[str, str]]
) -> list[tuple]:
    """Inspectors on tasks of sampling.plan that the package does not allow: not in its eligibility.csv (what
    was known at the draw) or `excluded` by its recorded facts."""
    allowed = set(drawing._read(folder, "eligibility.csv").itertuples(index=False, name=None)) - excluded
    assigned = run_sql(conn, "intermediate/sampling.plan.sql#assigned_pairs", {"plan_id": pid})
    return [(pid, uscc, i) for uscc, i in assigned if (uscc, i) not in allowed]


def audit_month(
    conn: duckdb.DuckDBPyConnection,
    configured: Sequence[plan_policy.SamplingPlan],
    month: str,
    packages_dir: Path,
) -> dict[str, list[tuple]]:
    """Violations of the drawn plans of tier month M, per audit (empty lists: all kept). A plan is judged by what
    was known when it was drawn plus its recorded exclusions, never by information that arrived after it:

    - sample_sizes: a stratum whose drawn count differs from the protocol's n_h in the frame;
    - no_repeat: an enterprise twice in a plan, or drawn twice for the same plan prefix in a calendar year;
    - pairs: a task without two distinct inspectors and without a reason, or an inspector above the cap;
    - pairs_eligible: an inspector on a task who is not in the package's eligibility.csv or is excluded;
    - unrecorded_facts: for a plan still open, a pair of eligibility.csv that the constraints, read now by
      sql/intermediate/exclusion_facts.sql (independently of the draw's eligibility.sql), rule out but that is not in
      exclusions.csv: every new fact must become an amendment or an unstaffed task with its reason. For a plan
      drawn in this run it is the recomputation of its constraints (nothing may fail them).
    """
    m = Month.of(month).start
    active = frames.plans_active(configured, month)
    ids = [frames.plan_id(p, month) for p in active]
    out: dict[str, list[tuple]] = {
        "sample_sizes": run_sql(conn, "checks/sampling.plan.sql#sample_sizes", {"month": m}),
        "no_repeat": run_sql(conn, "checks/sampling.plan.sql#no_repeat", {"month": m}),
        "pairs": run_sql(
            conn,
            "checks/sampling.plan.sql#pairs",
            {"month": m, "plan_ids": ids, "caps": [p.workload_cap for p in active]},
        ),
        "pairs_eligible": [],
        "unrecorded_facts": [],
    }
    is_open = drawing.plan_is_open(conn, m)
    for plan, pid in zip(active, ids, strict=True):
        folder = Path(packages_dir) / pid
        if not folder.exists():
            out["pairs_eligible"].append((pid, "", "no package"))
            continue
        known = {(e.uscc, e.inspector_id) for e in amendments.staffing(folder).exclusions}
        out["pairs_eligible"] += _pairs_outside_package(conn, pid, folder, known)
        if is_open:
            facts = drawing.exclusion_facts(conn, plan, month, folder)
            out["unrecorded_facts"] += [
                (pid, f.uscc, f.inspector_id, f.reason) for f in facts if (f.uscc, f.inspector_id) not in known
            ]
    return out
