"""Drawing the month's double-random plans (双随机抽查计划的抽取与人员匹配), draw protocol v1.

`draw_month(conn, plans, month, packages_dir)` draws every plan active for tier month M (inspections in M+1)
from its frame in sampling.frame:

1. a seed from a secure random source; its SHA-256 commitment is recorded in sampling.commitments before
   the draw is made;
2. the selection (lib/sampling/protocol.py), the eligible inspectors of every selected enterprise
   (lib/sampling/eligibility.py) and the pairs under the plan's workload cap;
3. the verification package written to `packages_dir/<plan_id>/` (verified before it is renamed into place);
4. sampling.plan filled from the package.

A published plan is immutable: when its package exists, the month's rerun verifies it and reloads it, never
draws again (a new draw would be a new plan version with a new plan_id). Plain Python, no Dagster.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from zs_risk_pipeline.lib.core import faults, files
from zs_risk_pipeline.lib.core.month import Month
from zs_risk_pipeline.lib.core.sql import latest_month, run_sql
from zs_risk_pipeline.lib.evidence import signing
from zs_risk_pipeline.lib.policy import versions
from zs_risk_pipeline.lib.policy.folder import Policy
from zs_risk_pipeline.lib.sampling import amendments, eligibility, frames, plan_policy, protocol
from zs_risk_pipeline.lib.sampling import package as sampling_package


class PackageInvalid(RuntimeError):
    """A published plan package no longer verifies: it was altered after publication."""


@dataclass(frozen=True)
class DrawnPlan:
    plan_id: str
    package: Path
    drawn_now: bool  # False: the package existed and was reloaded unchanged
    frame: int
    selected: int
    assigned: int  # tasks with two inspectors now (after amendments)
    unassigned: dict[str, int]  # reason → tasks without a full pair
    strata: dict[str, dict[str, Any]]
    seed_commitment: str
    eligibility: dict[str, Any]  # why candidate inspectors were excluded (counts), when drawn now
    open: bool = True  # still amendable: no later month of the chain has been built
    amended_now: tuple[amendments.Amendment, ...] = ()  # amendments recorded by this run
    amendments: int = 0  # amendments recorded in all
    late_facts_not_amended: int = 0  # facts that reached a plan whose month had passed (reported only)


def _read(folder: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(folder / name, dtype=str, keep_default_na=False, encoding="utf-8")


def amendment_note(changes: Sequence[amendments.Amendment]) -> str | None:
    """How a task changed, for sampling.plan and the branch's task list (变更): replaced → replacement (why)."""
    notes = []
    for a in changes:
        why = a.reason.split(";")[0]
        label = f"{amendments.REASONS.get(why, why)} {why}"
        if a.replacement:
            notes.append(f"{a.replaced} → {a.replacement}（{label}，{a.amended_in}）")
        else:
            notes.append(f"{a.replaced} 撤出，无可替换人员（{label}，{a.amended_in}）")
    return "；".join(notes) or None


def _load_package(
    conn: duckdb.DuckDBPyConnection, month: dt.date, folder: Path, plan: dict[str, Any], staffed: amendments.Staffing
) -> int:
    """sampling.plan rows of one plan from its (verified) package: tasks in staffing order, inspectors as the
    amendments leave them (`staffed`), the drawn pair kept beside them."""
    selection = _read(folder, "selection.csv")
    assignments = _read(folder, "assignments.csv")
    rows = assignments.merge(selection, on="uscc", how="left", validate="one_to_one")
    current = [staffed.slots[u] for u in rows["uscc"]]
    notes = [amendment_note(staffed.of(u)) for u in rows["uscc"]]
    # A slot emptied by an amendment takes the amendment's reason (the drawn reason stays for unstaffed draws).
    emptied = {a.uscc: a.reason for a in staffed.amendments if not a.replacement}
    reasons = [
        r if r else (emptied.get(u) if not (c[0] and c[1]) else None)
        for u, r, c in zip(rows["uscc"], rows["unassigned_reason"], current, strict=True)
    ]
    frame = pd.DataFrame(
        {
            "month": month,
            "plan_id": plan["plan_id"],
            "task_no": range(1, len(rows) + 1),
            "uscc": rows["uscc"],
            "stratum": rows["stratum"],
            "u": rows["u"].astype("float64"),
            "inspector_1": [c[0] or None for c in current],
            "inspector_2": [c[1] or None for c in current],
            "unassigned_reason": reasons,
            "drawn_inspector_1": rows["inspector_1"].replace("", None),
            "drawn_inspector_2": rows["inspector_2"].replace("", None),
            "amendment": notes,
            "seed_commitment": plan["seed_commitment"],
            "policy_version": plan.get("policy_version"),
        }
    )
    conn.register("_plan_rows", frame)
    try:
        return int(run_sql(conn, "intermediate/sampling.plan.sql#replace_plan", {"plan_id": plan["plan_id"]})[0][0])
    finally:
        conn.unregister("_plan_rows")


def _summary(conn: duckdb.DuckDBPyConnection, folder: Path, drawn_now: bool, excluded: dict[str, Any]) -> DrawnPlan:
    plan = json.loads((folder / "plan.json").read_text(encoding="utf-8"))
    rows = run_sql(conn, "intermediate/sampling.plan.sql#staffing", {"plan_id": plan["plan_id"]})
    staffed = sum(n for full, _, n in rows if full)
    return DrawnPlan(
        plan_id=plan["plan_id"],
        package=folder,
        drawn_now=drawn_now,
        frame=sum(s["N"] for s in plan["strata"].values()),
        selected=sum(n for _, _, n in rows),
        assigned=staffed,
        unassigned={str(reason): int(n) for full, reason, n in rows if not full},
        strata=plan["strata"],
        seed_commitment=plan["seed_commitment"],
        # Plain JSON values (the snapshot month is a date): the summary goes into run metadata.
        eligibility={k: v if isinstance(v, int) else str(v) for k, v in excluded.items()},
    )


def plan_is_open(conn: duckdb.DuckDBPyConnection, month: dt.date) -> bool:
    """A plan drawn from tier month M can still be amended while the chain has built no later month: once M+1
    is built, M+1 is over and the plan has been carried out (its record is history, not a staffing list)."""
    latest = latest_month(conn, "tiers.enterprise_monthly")
    return latest is None or latest <= month


def exclusion_facts(
    conn: duckdb.DuckDBPyConnection, plan: plan_policy.SamplingPlan, month: str, folder: Path
) -> list[amendments.Fact]:
    """The facts known now, up to the plan's cut-off M, that rule pairs of its eligibility.csv out.

    Cross-checked against eligibility recomputed by sql/intermediate/eligibility.sql: the pairs of eligibility.csv
    it no longer lists must be exactly the pairs with a fact."""
    recorded = _read(folder, "eligibility.csv")
    if recorded.empty:
        return []
    params = eligibility.eligibility_params(plan, month)
    conn.register("_amend_pairs", recorded)
    try:
        rows = run_sql(conn, "intermediate/exclusion_facts.sql", params)
    finally:
        conn.unregister("_amend_pairs")
    tasks = _read(folder, "selection.csv")[["uscc"]]
    now, _ = eligibility.eligibility(conn, plan, month, tasks)
    gone = set(recorded.itertuples(index=False, name=None)) - set(now.itertuples(index=False, name=None))
    if gone != {(u, i) for u, i, *_ in rows}:
        raise RuntimeError(
            f"{folder.name}: exclusion facts ({len(rows)} pairs) disagree with eligibility recomputed now "
            f"({len(gone)} pairs of eligibility.csv no longer eligible)"
        )
    return [amendments.Fact(*row) for row in rows]


def commitment_mismatch(folder: Path, recorded: tuple[str, str | None] | None) -> list[str]:
    """The package's signed commitment against the one sampling.commitments recorded before the draw
    (`recorded`: seed_commitment and signed record, None when there is none)."""
    if recorded is None:
        return [f"sampling.commitments has no commitment for {folder.name}: the plan was not drawn here"]
    path = folder / protocol.COMMITMENT_FILE
    if not path.is_file():
        return []  # named by draw.commitment_problems
    package = json.loads(path.read_text(encoding="utf-8"))
    seed_commitment, record = recorded
    if package.get("seed_commitment") != seed_commitment or (record and json.loads(record) != package):
        table = "sampling.commitments"
        return [f"{protocol.COMMITMENT_FILE}: not the commitment {table} recorded before the draw of {folder.name}"]
    return []


def _reload(
    conn: duckdb.DuckDBPyConnection,
    plan: plan_policy.SamplingPlan,
    month: str,
    folder: Path,
    pid: str,
    signer: signing.Signer,
) -> DrawnPlan:
    """A published plan: finish an interrupted amendment, verify, amend it by new facts while it is open, and
    load it. Never redrawn; its draw files are never written again."""
    tier_month = Month.of(month).start
    amended_in = f"{tier_month:%Y-%m}"
    check = sampling_package.check_package(folder)  # once: the draw files never change, the amendment records may
    amendments.complete_round(folder, amended_in, check)
    problems = amendments.verify(folder, check) + sampling_package.commitment_problems(folder, signer.verifier)
    rows = run_sql(conn, "intermediate/sampling.commitments.sql#of_plan", {"plan_id": pid})
    problems += commitment_mismatch(folder, rows[0] if rows else None)
    if problems:
        raise PackageInvalid(f"published plan {pid} no longer verifies: " + "; ".join(problems[:3]))
    facts = exclusion_facts(conn, plan, month, folder)
    recorded = {(e.uscc, e.inspector_id) for e in amendments.staffing(folder, check).exclusions}
    unrecorded = [f for f in facts if (f.uscc, f.inspector_id) not in recorded]
    is_open = plan_is_open(conn, tier_month)
    amended: list[amendments.Amendment] = []
    if is_open and unrecorded:
        amended = amendments.record_round(folder, unrecorded, amended_in, check)
        problems = amendments.verify(folder, check)
        if problems:
            raise PackageInvalid(f"amending plan {pid} left a package that does not verify: " + "; ".join(problems[:3]))
    doc = json.loads((folder / "plan.json").read_text(encoding="utf-8"))
    staffed = amendments.staffing(folder, check)
    _load_package(conn, tier_month, folder, doc, staffed)
    summary = _summary(conn, folder, False, {})
    return replace(
        summary,
        open=is_open,
        amended_now=tuple(amended),
        amendments=len(staffed.amendments),
        late_facts_not_amended=0 if is_open else len(unrecorded),
    )


PENDING_DIR = ".pending"  # in the packages folder: seeds committed whose package is not written yet


def _pending(packages_dir: Path, pid: str) -> Path:
    return packages_dir / PENDING_DIR / f"{pid}.json"


def _commit(
    conn: duckdb.DuckDBPyConnection,
    pid: str,
    month: str,
    frame_bytes: bytes,
    packages_dir: Path,
    signer: signing.Signer,
) -> tuple[str, dict[str, Any]]:
    """The seed of a plan about to be drawn, committed before anything is drawn: the seed cannot be chosen after
    seeing a sample. The seed and its signed commitment record (with the frame's SHA-256) are first kept in the
    restricted packages folder, then the commitment is recorded in sampling.commitments. A run killed before its
    package was written draws again with the same seed and the same frame, so it draws the same plan."""
    pending = _pending(packages_dir, pid)
    frame_sha = hashlib.sha256(frame_bytes).hexdigest()
    if pending.is_file():
        kept = json.loads(pending.read_text(encoding="utf-8"))
        seed, record = kept["seed"], kept["record"]
        if record["frame_sha256"] != frame_sha:
            raise RuntimeError(
                f"{pid}: the frame differs from the one committed before an interrupted draw ({pending}): "
                "investigate before drawing again"
            )
    else:
        if run_sql(conn, "intermediate/sampling.commitments.sql#of_plan", {"plan_id": pid}):
            raise RuntimeError(f"{pid} already has a seed commitment but no package: investigate before drawing again")
        seed = protocol.new_seed()
        record = signing.commitment_record(
            signer, pid, month, protocol.commitment(seed), protocol.ALGORITHM, frame_sha, frame_bytes.count(b"\n") - 1
        )
        files.write_private(pending, json.dumps({"seed": seed, "record": record}, sort_keys=True))
    committed = run_sql(
        conn,
        "intermediate/sampling.commitments.sql#commit",
        {
            "plan_id": pid,
            "seed_commitment": record["seed_commitment"],
            "algorithm": record["algorithm"],
            "frame_sha256": frame_sha,
            "record": json.dumps(record, sort_keys=True, ensure_ascii=False),
        },
    )[0][0]
    if committed != record["seed_commitment"]:
        raise RuntimeError(f"{pid}: sampling.commitments holds another commitment: investigate before drawing again")
    faults.crash_point("draw:committed")
    return seed, record


def sweep_interrupted(packages_dir: Path) -> list[str]:
    """Remove what a draw killed mid-way left in the packages folder: a package written aside but never renamed
    into place (its seed stays kept in .pending/, so the rerun draws the same plan), a kept seed half written.
    Returns what was removed, for the run's metadata."""
    packages_dir = Path(packages_dir)
    done: list[str] = []
    for tmp in sorted(packages_dir.glob(".*.tmp-*")) if packages_dir.is_dir() else []:
        shutil.rmtree(tmp, ignore_errors=True)
        done.append(f"{tmp.name}: package written aside by an interrupted draw, removed (never published)")
    for tmp in sorted((packages_dir / PENDING_DIR).glob(".*.tmp")):
        tmp.unlink()
        done.append(f"{PENDING_DIR}/{tmp.name}: seed half written by an interrupted draw, removed")
    for kept in sorted((packages_dir / PENDING_DIR).glob("*.json")):
        if (packages_dir / kept.stem).is_dir():  # killed after the package was renamed into place
            kept.unlink()
            done.append(f"{PENDING_DIR}/{kept.name}: kept seed of a package now in place, removed")
    return done


def draw_plan(
    conn: duckdb.DuckDBPyConnection,
    plan: plan_policy.SamplingPlan,
    month: str,
    packages_dir: Path,
    extra: dict[str, Any] | None = None,
    signer: signing.Signer | None = None,
    policy: Policy | None = None,
) -> DrawnPlan:
    """Draw (or, if already published, verify, amend and reload) one plan for tier month M. A new plan.json
    records the policy version it was drawn under (lib/policy/versions.py; of `policy`, default the folder in
    use) and any `extra` fields as they are."""
    m = frames.plan_month(month)  # validates the month
    tier_month = Month.of(month).start
    pid = frames.plan_id(plan, month)
    folder = Path(packages_dir) / pid
    run_sql(conn, "intermediate/sampling.plan.sql")
    run_sql(conn, "intermediate/sampling.commitments.sql")
    signer = signer or signing.signer_from_env()
    if folder.exists():
        return _reload(conn, plan, month, folder, pid, signer)

    rows = run_sql(conn, "intermediate/sampling.frame.sql#of_plan", {"month": tier_month, "plan_id": pid})
    frame = pd.DataFrame([(u, st) for u, st, _ in rows], columns=["uscc", "stratum"], dtype=object)
    rates = frames.frame_rates(plan, month)
    frame_bytes = sampling_package.frame_csv(
        frame
    )  # once: its hash is committed, then the same bytes are the package's
    seed, record = _commit(conn, pid, f"{m:%Y-%m}", frame_bytes, Path(packages_dir), signer)
    selection = protocol.draw(conn, frame, rates, seed, pid)
    eligible, excluded = eligibility.eligibility(conn, plan, month, selection[["uscc"]])
    assignments = protocol.assign(conn, selection, eligible, seed, pid, plan.workload_cap)
    drawn_under = versions.current("sampling", policy)
    recorded = {"policy_version": drawn_under.version, "policy_files": drawn_under.files, **(extra or {})}
    doc = protocol.new_plan(
        pid, f"{m:%Y-%m}", seed, rates, frame, plan.workload_cap, known_through=f"{tier_month:%Y-%m}", extra=recorded
    )
    sampling_package.write_package(
        folder, doc, frame, selection, eligible, assignments, commitment=record, frame_bytes=frame_bytes
    )
    _pending(Path(packages_dir), pid).unlink(missing_ok=True)
    pairs = assignments[["uscc", "inspector_1", "inspector_2"]].itertuples(index=False, name=None)
    drawn = {u: (i1 or "", i2 or "") for u, i1, i2 in pairs}
    _load_package(conn, tier_month, folder, doc, amendments.Staffing(drawn, [], []))  # just drawn: no amendment
    return _summary(conn, folder, True, excluded)


def draw_month(
    conn: duckdb.DuckDBPyConnection,
    plans: Sequence[plan_policy.SamplingPlan],
    month: str,
    packages_dir: Path,
    extra: dict[str, Any] | None = None,
    signer: signing.Signer | None = None,
    policy: Policy | None = None,
) -> list[DrawnPlan]:
    """Every plan active for tier month M, drawn or reloaded (and amended), in plan order."""
    signer = signer or signing.signer_from_env()
    active = frames.plans_active(plans, month)
    return [draw_plan(conn, p, month, packages_dir, extra, signer, policy) for p in active]
