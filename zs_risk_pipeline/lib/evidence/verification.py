"""Verifying a whole home against tampering (防篡改核验), with the public key only: what `zs-risk verify` runs.

- the publish log, the mart's files and catalogue, the signed heads and an externally kept head
  (lib/publish/wap.py `verify`);
- every plan package: its draw and amendments recomputed (lib/sampling/amendments.py), its signed seed commitment
  and frame (lib/sampling/protocol.py `commitment_problems`), and the commitment sampling.commitments recorded
  before the draw;
- every commitment on record has its package (a plan deleted after its draw is named), unless the draw was
  interrupted before its package was written (the next run completes it).

Plain Python, no Dagster.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from zs_risk_pipeline.lib.core import settings
from zs_risk_pipeline.lib.core.sql import run_sql, table_exists
from zs_risk_pipeline.lib.evidence import signing
from zs_risk_pipeline.lib.publish import verify
from zs_risk_pipeline.lib.sampling import amendments, drawing, package, protocol


@dataclass
class HomeReport:
    problems: list[str] = field(default_factory=list)
    entries: int = 0  # publish-log entries
    head: str | None = None  # entry hash of the log's last entry: keep it outside the system
    packages: int = 0


def packages(plans_dir: Path) -> list[Path]:
    return sorted(p for p in Path(plans_dir).glob("*") if p.is_dir() and not p.name.startswith("."))


def package_problems(folder: Path, verifier: signing.Verifier, on_record: dict[str, tuple] | None) -> list[str]:
    """One plan package: the draw and amendments recomputed, the signed commitment and frame, and (when the
    warehouse is at hand, `on_record`: plan_id → (seed_commitment, record)) the commitment recorded at the draw."""
    problems = amendments.verify(folder) + package.commitment_problems(folder, verifier)
    if on_record is None:
        return problems
    return problems + drawing.commitment_mismatch(folder, on_record.get(folder.name))


def verify_home(paths: settings.Paths, verifier: signing.Verifier, external_head: str | None = None) -> HomeReport:
    report = HomeReport()
    conn = duckdb.connect(str(paths.warehouse), read_only=True) if paths.warehouse.exists() else None
    try:
        report.problems += verify.verify(conn, paths.mart, verifier, external_head=external_head)
        if conn is not None and table_exists(conn, "audit", "publish_log"):
            tail = run_sql(conn, "ops/audit.publish_log.sql#tail")
            report.entries, report.head = (int(tail[0][0]), tail[0][1]) if tail else (0, None)
        on_record = None
        loaded: dict[str, int] = {}
        if conn is not None and table_exists(conn, "sampling", "commitments"):
            on_record = {pid: (c, r) for pid, c, r in run_sql(conn, "intermediate/sampling.commitments.sql#all")}
            loaded = dict(run_sql(conn, "intermediate/sampling.plan.sql#tasks_by_plan"))
    finally:
        if conn is not None:
            conn.close()
    found = packages(paths.plans)
    report.packages = len(found)
    for folder in found:
        report.problems += [f"plan {folder.name}: {p}" for p in package_problems(folder, verifier, on_record)]
    for pid in sorted(set(on_record or {}) - {f.name for f in found}):
        why = _not_interrupted(paths, pid, on_record[pid], verifier, loaded.get(pid, 0))
        if why:
            report.problems.append(f"plan {pid}: committed in sampling.commitments but its package is missing ({why})")
    return report


def _not_interrupted(
    paths: settings.Paths, pid: str, recorded: tuple[str, str | None], verifier: signing.Verifier, loaded: int
) -> str | None:
    """Why a committed plan without a package is not a draw interrupted before its package was written (None when
    it is one: the next run completes it with the kept seed). An interrupted draw left its seed and signed record in
    plans/.pending/ and never loaded a task into sampling.plan."""
    pending = paths.plans / drawing.PENDING_DIR / f"{pid}.json"
    if not pending.is_file():
        return "no interrupted draw kept its seed"
    if loaded:
        return f"sampling.plan holds {loaded} tasks of it: the package was written, then removed"
    try:
        kept = json.loads(pending.read_text(encoding="utf-8"))
        seed, record = str(kept["seed"]), dict(kept["record"])
    except (OSError, ValueError, KeyError, TypeError):
        return f"{pending.name} in {drawing.PENDING_DIR}/ is not a kept seed"
    if signing.commitment_problems(record, verifier) or protocol.commitment(seed) != record.get("seed_commitment"):
        return f"{pending.name} in {drawing.PENDING_DIR}/ is not a signed commitment of its seed"
    seed_commitment, signed = recorded
    if seed_commitment != record["seed_commitment"] or (signed and json.loads(signed) != record):
        return f"{pending.name} in {drawing.PENDING_DIR}/ is not the commitment on record"
    return None
