"""Drawing the month's double-random plans (双随机抽查计划的抽取与人员匹配), draw protocol v1.

`draw_month(conn, plans, month, packages_dir)` draws every plan active for tier month M (inspections in M+1)
from its frame in sampling.frame:

1. a seed from a secure random source; its SHA-256 commitment is recorded in sampling.commitments before
   the draw is made;
2. the selection (lib/draw.py), the eligible inspectors of every selected enterprise (lib/eligibility.py)
   and the pairs under the plan's workload cap;
3. the verification package written to `packages_dir/<plan_id>/` (verified before it is renamed into place);
4. sampling.plan filled from the package.

A published plan is immutable: when its package exists, the month's rerun verifies it and reloads it, never
draws again (a new draw would be a new plan version with a new plan_id). Plain Python, no Dagster.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from zs_risk_pipeline.lib import draw, early_warning, eligibility, sampling
from zs_risk_pipeline.lib.contract import REFERENCE_DIR
from zs_risk_pipeline.lib.ingest import month_end, month_start
from zs_risk_pipeline.lib.sql import load_sql, run_sql


class PackageInvalid(RuntimeError):
    """A published plan package no longer verifies: it was altered after publication."""


@dataclass(frozen=True)
class DrawnPlan:
    plan_id: str
    package: Path
    drawn_now: bool  # False: the package existed and was reloaded unchanged
    frame: int
    selected: int
    assigned: int
    unassigned: dict[str, int]  # reason → tasks
    strata: dict[str, dict[str, Any]]
    seed_commitment: str
    eligibility: dict[str, Any]  # why candidate inspectors were excluded (counts), when drawn now


def _read(folder: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(folder / name, dtype=str, keep_default_na=False, encoding="utf-8")


def _load_package(conn: duckdb.DuckDBPyConnection, month: dt.date, folder: Path, plan: dict[str, Any]) -> int:
    """sampling.plan rows of one plan from its (verified) package: tasks in staffing order."""
    selection = _read(folder, "selection.csv")
    assignments = _read(folder, "assignments.csv")
    rows = assignments.merge(selection, on="uscc", how="left", validate="one_to_one")
    blank = {"inspector_1": None, "inspector_2": None, "unassigned_reason": None}
    frame = pd.DataFrame(
        {
            "month": month,
            "plan_id": plan["plan_id"],
            "task_no": range(1, len(rows) + 1),
            "uscc": rows["uscc"],
            "stratum": rows["stratum"],
            "u": rows["u"].astype("float64"),
            **{c: rows[c].replace("", blank[c]) for c in blank},
            "seed_commitment": plan["seed_commitment"],
        }
    )
    conn.register("_plan_rows", frame)
    try:
        return int(run_sql(conn, "sampling/plan_replace.sql", {"plan_id": plan["plan_id"]})[0][0])
    finally:
        conn.unregister("_plan_rows")


def _summary(folder: Path, drawn_now: bool, excluded: dict[str, Any]) -> DrawnPlan:
    plan = json.loads((folder / "plan.json").read_text(encoding="utf-8"))
    assignments = _read(folder, "assignments.csv")
    reasons = assignments["unassigned_reason"]
    return DrawnPlan(
        plan_id=plan["plan_id"],
        package=folder,
        drawn_now=drawn_now,
        frame=sum(s["N"] for s in plan["strata"].values()),
        selected=len(assignments),
        assigned=int((reasons == "").sum()),
        unassigned={str(k): int(v) for k, v in reasons[reasons != ""].value_counts().sort_index().items()},
        strata=plan["strata"],
        seed_commitment=plan["seed_commitment"],
        # Plain JSON values (the snapshot month is a date): the summary goes into run metadata.
        eligibility={k: v if isinstance(v, int) else str(v) for k, v in excluded.items()},
    )


def draw_plan(
    conn: duckdb.DuckDBPyConnection, plan: sampling.SamplingPlan, month: str, packages_dir: Path
) -> DrawnPlan:
    """Draw (or, if already published, verify and reload) one plan for tier month M."""
    m = sampling.plan_month(month)  # validates the month
    tier_month = month_start(month)
    pid = sampling.plan_id(plan, month)
    folder = Path(packages_dir) / pid
    run_sql(conn, "sampling/plan_create.sql")
    if folder.exists():
        problems = draw.verify_package(folder)
        if problems:
            raise PackageInvalid(f"published plan {pid} no longer verifies: " + "; ".join(problems[:3]))
        doc = json.loads((folder / "plan.json").read_text(encoding="utf-8"))
        _load_package(conn, tier_month, folder, doc)
        return _summary(folder, False, {})

    rows = run_sql(conn, "sampling/plan_frame.sql", {"month": tier_month, "plan_id": pid})
    frame = pd.DataFrame([(u, st) for u, st, _ in rows], columns=["uscc", "stratum"], dtype=object)
    rates = sampling.frame_rates(plan, month)
    seed = draw.new_seed()
    # The commitment is on record before anything is drawn: the seed cannot be chosen after seeing a sample.
    committed = run_sql(
        conn,
        "sampling/commit_seed.sql",
        {"plan_id": pid, "seed_commitment": draw.commitment(seed), "algorithm": draw.ALGORITHM},
    )[0][0]
    if committed != draw.commitment(seed):
        raise RuntimeError(f"{pid} already has a seed commitment but no package: investigate before drawing again")
    selection = draw.draw(conn, frame, rates, seed, pid)
    eligible, excluded = eligibility.eligibility(conn, plan, month, selection[["uscc"]])
    assignments = draw.assign(conn, selection, eligible, seed, pid, plan.workload_cap)
    doc = draw.new_plan(pid, f"{m:%Y-%m}", seed, rates, frame, plan.workload_cap)
    draw.write_package(folder, doc, frame, selection, eligible, assignments)
    _load_package(conn, tier_month, folder, doc)
    return _summary(folder, True, excluded)


def draw_month(
    conn: duckdb.DuckDBPyConnection, plans: Sequence[sampling.SamplingPlan], month: str, packages_dir: Path
) -> list[DrawnPlan]:
    """Every plan active for tier month M, drawn or reloaded, in plan order."""
    return [draw_plan(conn, p, month, packages_dir) for p in sampling.plans_active(plans, month)]


# --- what the blocking checks verify ----------------------------------------------------------------------

AUDITS = ("sample_sizes", "no_repeat", "pairs", "pairs_eligible")


def audit_month(
    conn: duckdb.DuckDBPyConnection, configured: Sequence[sampling.SamplingPlan], month: str
) -> dict[str, list[tuple]]:
    """Violations of the drawn plans of tier month M, per audit (empty lists: all kept):

    - sample_sizes: a stratum whose drawn count differs from the protocol's n_h in the frame;
    - no_repeat: an enterprise twice in a plan, or drawn twice for the same plan prefix in a calendar year;
    - pairs: a task without two distinct inspectors and without a reason, or an inspector above the cap;
    - pairs_eligible: an assigned inspector the constraints, recomputed now, do not allow for the task.
    """
    m = month_start(month)
    active = sampling.plans_active(configured, month)
    ids = [sampling.plan_id(p, month) for p in active]
    out = {
        "sample_sizes": run_sql(conn, "checks/sampling_sizes.sql", {"month": m}),
        "no_repeat": run_sql(conn, "checks/sampling_no_repeat.sql", {"month": m}),
        "pairs": run_sql(
            conn, "checks/sampling_pairs.sql", {"month": m, "plan_ids": ids, "caps": [p.workload_cap for p in active]}
        ),
        "pairs_eligible": [],
    }
    for plan, pid in zip(active, ids, strict=True):
        tasks = conn.execute(load_sql("sampling/plan_tasks.sql"), {"plan_id": pid}).df()
        if tasks.empty:
            continue
        allowed, _ = eligibility.eligibility(conn, plan, month, tasks)
        conn.register("_recheck_eligible", allowed)
        try:
            out["pairs_eligible"] += run_sql(conn, "checks/sampling_pair_eligible.sql", {"plan_id": pid})
        finally:
            conn.unregister("_recheck_eligible")
    return out


# --- task lists for the branches ------------------------------------------------------------------------

ENCODINGS = {"utf8": "utf-8-sig", "gb18030": "gb18030"}  # BOM in the UTF-8 file: Excel opens it right


def write_task_lists(
    conn: duckdb.DuckDBPyConnection, configured: Sequence[sampling.SamplingPlan], month: str, folder: Path
) -> dict[str, int]:
    """One CSV per branch (分局) with the tasks of the plans drawn from tier month M, in UTF-8 and GB18030:
    `folder/<YYYY-MM of M+1>/<branch>.<utf8|gb18030>.csv`. No tier, score or draw number. Tasks per branch.

    The month's folder is written aside and swapped in, so a rerun replaces it whole.
    """
    active = sampling.plans_active(configured, month)
    params = {
        "month": month_start(month),
        "month_end": month_end(month),
        "plan_ids": [sampling.plan_id(p, month) for p in active],
        "plan_names": [p.name_zh for p in active],
        "items": ["；".join(i.name_zh for i in p.items) for p in active],
        "towns_csv": str(REFERENCE_DIR / "towns.csv"),
    }
    tasks = conn.execute(load_sql("sampling/task_list.sql"), params).df()
    target = Path(folder) / f"{sampling.plan_month(month):%Y-%m}"
    staging = target.with_name(f".{target.name}.tmp")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    counts: dict[str, int] = {}
    for branch, rows in tasks.groupby("branch", sort=True):  # a loop over the ~20 branches, not over tasks
        table = rows.drop(columns=["branch"])
        for label, encoding in ENCODINGS.items():
            table.to_csv(staging / f"{branch}.{label}.csv", index=False, encoding=encoding, lineterminator="\n")
        counts[str(branch)] = len(table)
    old = target.with_name(f".{target.name}.old")
    if target.exists():
        target.rename(old)
    staging.rename(target)
    shutil.rmtree(old, ignore_errors=True)
    return counts


# --- trigger queue ---------------------------------------------------------------------------------------


def build_trigger_queue(conn: duckdb.DuckDBPyConnection, month: str) -> dict[str, int]:
    """Queue the A/B-tier enterprises with a complaint or an early warning (预警) in tier month M for triggered
    inspection (触发式监管), replacing the month in sampling.trigger_queue in one transaction; enterprises
    queued per tier. Without warnings built for M, only the complaints queue."""
    conn.execute("BEGIN TRANSACTION")
    try:
        early_warning.ensure_table(conn)
        rows = run_sql(conn, "sampling/trigger_queue.sql", {"month": month_start(month), "month_end": month_end(month)})
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return {str(tier): int(n) for tier, n in rows}
