"""Amendments of published plans (计划变更), draw protocol v1 (design.md §6).

A published plan is never redrawn and its package files never change. Information that reaches the plan's
delivery cut-off after the draw (a late inspection result inside the 12-month rule, a newly declared conflict
of interest 回避, an inspector who left, lost a qualification, a valid certificate or moved unit or branch)
can make an assigned inspector ineligible; it is recorded, append-only, in the package:

- `exclusions.csv`: uscc, inspector_id, reason, evidence, known_in, round - one row per (task, inspector) pair
  of eligibility.csv that a fact now rules out, with the delivery month that brought the fact;
- `amendments.csv`: uscc, replaced, replacement, reason, amended_in, round - the replacements (`replacement`
  empty when nobody fits; `reason` then says why).

`round` numbers the passes that recorded something (1, 2, …): a later pass must not change what an earlier
one decided, and a tier month's plan can be amended by several reruns of the same month, so the month alone
cannot order them (design.md §6 orders by month; this is the same rule with a finer clock).

The rule, from the package and the exclusions alone (`replay`): per round, in ascending order, the tasks in
ascending (k, uscc) order, within a task inspector_1 before inspector_2, one inspector at a time: an assigned
inspector excluded for the task (in this or an earlier round) is replaced by the first of the task's
eligibility.csv rows minus every exclusion of the task recorded so far, ordered by
sha256("seed|plan_id|uscc|inspector_id") as at the draw, who is not already on the task and whose count of
tasks in the plan (after all earlier amendments, the replaced inspector no longer counting this task) is below
workload_cap. A slot nobody can fill stays empty with its reason; it is not retried later.

- `verify(folder)`: the whole package - the draw (lib/sampling/protocol.py check_package) and then every exclusion and
  amendment, recomputed with plain hashlib; names the first forged row.
- `record_round(folder, facts, amended_in)`: append the new facts and the amendments they call for.
- `complete_round(folder, amended_in)`: finish a round interrupted between its two files (crash recovery).
- `staffing(folder)`: the current inspectors of every task and the amendments of each, for sampling.plan and
  the task lists.

Plain Python, no Dagster, no DuckDB.
"""

from __future__ import annotations

import csv
import io
import os
import secrets
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from zs_risk_pipeline.lib.core.month import Month
from zs_risk_pipeline.lib.sampling import package, protocol

EXCLUSIONS_FILE = "exclusions.csv"
AMENDMENTS_FILE = "amendments.csv"
EXCLUSIONS_HEADER = ("uscc", "inspector_id", "reason", "evidence", "known_in", "round")
AMENDMENTS_HEADER = ("uscc", "replaced", "replacement", "reason", "amended_in", "round")

# Why a pair was ruled out, in the order a pair is attributed to the first fact it meets (as eligibility.sql
# applies the constraints), with the wording of the branch's task list.
REASONS: dict[str, str] = {
    "left": "已不在执法检查人员名录",
    "department": "所属单位变更",
    "inactive": "不在岗",
    "certificate": "执法证有效期不足",
    "qualification": "执法领域资格不符",
    "branch": "所属分局与企业不符",
    "conflict": "申报回避",
    "recent_inspection": "12个月内检查过该企业",
}


class AmendmentError(RuntimeError):
    """The package's amendment records cannot be extended: they do not verify, or the draw does not."""


@dataclass(frozen=True)
class Fact:
    """A fact that rules a (task, inspector) pair of eligibility.csv out, before it is given a round."""

    uscc: str
    inspector_id: str
    reason: str
    evidence: str
    known_in: str  # 'YYYY-MM': the delivery month that brought the fact


@dataclass(frozen=True)
class Exclusion:
    uscc: str
    inspector_id: str
    reason: str
    evidence: str
    known_in: str
    round: int

    def row(self) -> tuple[str, ...]:
        return (self.uscc, self.inspector_id, self.reason, self.evidence, self.known_in, str(self.round))


@dataclass(frozen=True)
class Amendment:
    uscc: str
    replaced: str
    replacement: str  # '' when nobody fits
    reason: str
    amended_in: str  # 'YYYY-MM': the tier month of the run that amended
    round: int

    def row(self) -> tuple[str, ...]:
        return (self.uscc, self.replaced, self.replacement, self.reason, self.amended_in, str(self.round))


@dataclass(frozen=True)
class Staffing:
    """The plan as it stands after its amendments."""

    slots: dict[str, tuple[str, str]]  # uscc → (inspector_1, inspector_2), '' for an empty slot
    amendments: list[Amendment]  # in record order
    exclusions: list[Exclusion]

    def of(self, uscc: str) -> list[Amendment]:
        return [a for a in self.amendments if a.uscc == uscc]


# ---------------------------------------------------------------------------------------------------------
# The rule


def unstaffed_reason(eligible: int, excluded: int, left: int, cap: int) -> str:
    """Why a slot could not be refilled (part of the package: the verifier compares it)."""
    if left == 0:
        return (
            f"unstaffed: no eligible inspector left ({eligible} eligible at the draw, {excluded} excluded, "
            "the rest already on the task)"
        )
    return f"unstaffed: every eligible inspector left ({left}) is at the workload cap {cap}"


def replay(
    check: package.PackageCheck, exclusions: Sequence[Exclusion], amended_in: Mapping[int, str]
) -> tuple[list[Amendment], dict[str, tuple[str, str]]]:
    """The amendments the recorded exclusions call for, round by round, and the staffing they leave.

    `check` is a complete draw.check_package result (its assignments are the recomputed draw); `amended_in`
    gives each round's amended_in (a round without one gets '').
    """
    seed, plan_id, cap = check.plan["seed"], check.plan["plan_id"], check.plan["workload_cap"]
    slots: dict[str, list[str]] = {row[0]: [row[1], row[2]] for row in check.assignments}
    load = Counter(i for pair in slots.values() for i in pair if i)
    excluded: dict[str, set[str]] = {}
    why: dict[tuple[str, str], str] = {}
    out: list[Amendment] = []
    for r in sorted({e.round for e in exclusions}):
        for e in exclusions:
            if e.round == r:
                excluded.setdefault(e.uscc, set()).add(e.inspector_id)
                why.setdefault((e.uscc, e.inspector_id), e.reason)
        for uscc in check.tasks:  # serving order: ascending (k, uscc)
            ruled_out = excluded.get(uscc)
            if not ruled_out:
                continue
            for slot in (0, 1):
                current = slots[uscc][slot]
                if not current or current not in ruled_out:
                    continue
                other = slots[uscc][1 - slot]
                load[current] -= 1  # the replaced inspector no longer counts this task
                eligible = check.eligible.get(uscc, [])
                left = sorted(
                    (i for i in eligible if i not in ruled_out and i != other),
                    key=lambda i, u=uscc: protocol.inspector_key(seed, plan_id, u, i),
                )
                fit = next((i for i in left if load[i] < cap), "")
                reason = why[(uscc, current)]
                if fit:
                    load[fit] += 1
                else:
                    excluded_here = len(ruled_out & set(eligible))
                    reason += "; " + unstaffed_reason(len(eligible), excluded_here, len(left), cap)
                slots[uscc][slot] = fit
                out.append(Amendment(uscc, current, fit, reason, amended_in.get(r, ""), r))
    return out, {u: (s[0], s[1]) for u, s in slots.items()}


# ---------------------------------------------------------------------------------------------------------
# Reading and checking the records


def _read(path: Path, header: Sequence[str]) -> tuple[list[tuple[str, ...]], str | None]:
    if not path.is_file():
        return [], None
    return package._read_csv(path, header)


def _exclusions(rows: list[tuple[str, ...]], check: package.PackageCheck) -> tuple[list[Exclusion], list[str]]:
    """exclusions.csv rows parsed and checked on their own (pairs of eligibility.csv, rounds 1, 2, … in order)."""
    problems: list[str] = []
    out: list[Exclusion] = []
    seen: set[tuple[str, str]] = set()
    known_through = check.plan.get("known_through", "")
    last_round = 0
    for n, row in enumerate(rows, start=1):
        where = f"{EXCLUSIONS_FILE} row {n}"
        if len(row) != len(EXCLUSIONS_HEADER):
            problems.append(f"{where}: {len(row)} fields, expected {len(EXCLUSIONS_HEADER)}")
            continue
        uscc, inspector, reason, evidence, known_in, round_text = row
        if not round_text.isdigit() or int(round_text) < 1:
            problems.append(f"{where}: round must be a positive integer, found {round_text!r}")
            continue
        r = int(round_text)
        if r < last_round or r > last_round + 1:
            problems.append(f"{where}: round {r} after round {last_round} (rows are appended round by round)")
        last_round = max(last_round, r)
        if inspector not in check.eligible.get(uscc, []):
            problems.append(f"{where}: {uscc},{inspector} is not a pair of {protocol.ELIGIBILITY_FILE}")
        if (uscc, inspector) in seen:
            problems.append(f"{where}: {uscc},{inspector} is excluded more than once")
        seen.add((uscc, inspector))
        if reason not in REASONS:
            problems.append(f"{where}: reason {reason!r} is not one of {', '.join(REASONS)}")
        if not evidence.strip():
            problems.append(f"{where}: evidence is empty")
        if not Month.is_label(known_in) or known_in > known_through:
            problems.append(f"{where}: known_in {known_in!r} is not a delivery month up to {known_through}")
        out.append(Exclusion(uscc, inspector, reason, evidence, known_in, r))
    return out, problems


def _amended_in(rows: list[tuple[str, ...]]) -> tuple[dict[int, str], list[str]]:
    """amended_in per round as recorded (one month per round, never earlier than the round before)."""
    months: dict[int, str] = {}
    problems: list[str] = []
    for n, row in enumerate(rows, start=1):
        if len(row) != len(AMENDMENTS_HEADER) or not row[5].isdigit():
            continue  # reported by the row comparison
        r, month = int(row[5]), row[4]
        if not Month.is_label(month):
            problems.append(f"{AMENDMENTS_FILE} row {n}: amended_in {month!r} is not a month YYYY-MM")
        elif months.setdefault(r, month) != month:
            problems.append(f"{AMENDMENTS_FILE} row {n}: amended_in {month} differs within round {r} ({months[r]})")
    ordered = [months[r] for r in sorted(months)]
    if ordered != sorted(ordered):
        problems.append(f"{AMENDMENTS_FILE}: amended_in goes back in time between rounds")
    return months, problems


_COMPARED = (0, 1, 2, 3, 5)  # every column but amended_in, which only the run that amended can know


def _project(rows: Iterable[tuple[str, ...]]) -> list[tuple[str, ...]]:
    return [tuple(r[i] for i in _COMPARED) if len(r) == len(AMENDMENTS_HEADER) else r for r in rows]


def verify(folder: Path, check: package.PackageCheck | None = None) -> list[str]:
    """Recompute a published plan's package from its own files: the draw, then its exclusions and amendments.

    [] when everything matches. A package without amendment records is its draw alone. `check`: the package's
    draw.check_package result when the caller has it (the draw files never change, so it stays valid)."""
    folder = Path(folder)
    check = check or package.check_package(folder)
    has_ex, has_am = (folder / EXCLUSIONS_FILE).is_file(), (folder / AMENDMENTS_FILE).is_file()
    if not (has_ex or has_am):
        return check.problems
    problems = list(check.problems)
    if has_am and not has_ex:
        return [*problems, f"{AMENDMENTS_FILE} without {EXCLUSIONS_FILE}: amendments must rest on recorded facts"]
    if not has_am:
        return [*problems, f"{EXCLUSIONS_FILE} without {AMENDMENTS_FILE}: the amendments of its facts are missing"]
    if not check.complete:
        return [*problems, "amendments not checked: the draw itself does not verify"]
    ex_rows, problem = _read(folder / EXCLUSIONS_FILE, EXCLUSIONS_HEADER)
    am_rows, problem_am = _read(folder / AMENDMENTS_FILE, AMENDMENTS_HEADER)
    if problem or problem_am:
        return [*problems, *(p for p in (problem, problem_am) if p)]
    exclusions, found = _exclusions(ex_rows, check)
    problems += found
    months, found = _amended_in(am_rows)
    problems += found
    expected, _ = replay(check, exclusions, months)
    header = tuple(AMENDMENTS_HEADER[i] for i in _COMPARED)
    problems += package._compare(AMENDMENTS_FILE, header, _project(a.row() for a in expected), _project(am_rows))
    return problems


# ---------------------------------------------------------------------------------------------------------
# Writing


def _csv_text(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def _replace(path: Path, text: str) -> None:
    """Write a file whole under a hidden name, then rename it over the old one (readers see old or new)."""
    tmp = path.parent / f".{path.name}.{secrets.token_hex(4)}.tmp"
    try:
        with tmp.open("w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _state(
    folder: Path, check: package.PackageCheck | None = None
) -> tuple[package.PackageCheck, list[Exclusion], list[tuple[str, ...]]]:
    check = check or package.check_package(folder)
    if check.problems or not check.complete:
        raise AmendmentError(f"{folder.name}: the draw does not verify: " + "; ".join(check.problems[:3]))
    ex_rows, problem = _read(folder / EXCLUSIONS_FILE, EXCLUSIONS_HEADER)
    am_rows, problem_am = _read(folder / AMENDMENTS_FILE, AMENDMENTS_HEADER)
    exclusions, found = _exclusions(ex_rows, check)
    problems = [p for p in (problem, problem_am) if p] + found
    if problems:
        raise AmendmentError(f"{folder.name}: amendment records do not verify: " + "; ".join(problems[:3]))
    return check, exclusions, am_rows


def complete_round(folder: Path, amended_in: str, check: package.PackageCheck | None = None) -> list[Amendment]:
    """Finish the last round when a crash came between writing exclusions.csv and amendments.csv: the missing
    amendments are exactly the ones the rule derives from the recorded facts, so they are appended (with
    `amended_in`, the month of the run finishing it). Returns what was appended; [] when nothing was missing.
    Anything else that does not verify is left for `verify` to report."""
    folder = Path(folder)
    if not (folder / EXCLUSIONS_FILE).is_file():
        return []
    try:
        check, exclusions, am_rows = _state(folder, check)
    except AmendmentError:
        return []  # verify names what is wrong
    months, _ = _amended_in(am_rows)
    last = max((e.round for e in exclusions), default=0)
    expected, _ = replay(check, exclusions, {**months, last: months.get(last, amended_in)})
    missing = expected[len(am_rows) :]
    if _project(a.row() for a in expected[: len(am_rows)]) != _project(am_rows) or any(
        a.round != last for a in missing
    ):
        return []  # not an interrupted round: verify names the mismatch
    if missing or not (folder / AMENDMENTS_FILE).is_file():
        _replace(folder / AMENDMENTS_FILE, _csv_text(AMENDMENTS_HEADER, [*am_rows, *(a.row() for a in missing)]))
    return missing


def record_round(
    folder: Path, facts: Sequence[Fact], amended_in: str, check: package.PackageCheck | None = None
) -> list[Amendment]:
    """Append the facts not yet recorded as a new round of exclusions, and the amendments they call for.

    Returns the new amendments ([] when every fact was known, or none touches an assigned inspector). The
    exclusions are written first, then the amendments: a crash between the two is finished by complete_round.
    """
    folder = Path(folder)
    if not Month.is_label(amended_in):
        raise ValueError(f"amended_in must be a month YYYY-MM, got {amended_in!r}")
    check, exclusions, am_rows = _state(folder, check)
    months, _ = _amended_in(am_rows)
    prior, _ = replay(check, exclusions, months)
    if _project(a.row() for a in prior) != _project(am_rows):
        raise AmendmentError(f"{folder.name}: {AMENDMENTS_FILE} does not match its exclusions; verify the package")
    known = {(e.uscc, e.inspector_id) for e in exclusions}
    order = {uscc: n for n, uscc in enumerate(check.tasks)}
    new: dict[tuple[str, str], Fact] = {}
    for f in facts:
        if f.reason not in REASONS:
            raise ValueError(f"fact {f.uscc},{f.inspector_id}: unknown reason {f.reason!r}")
        if f.inspector_id not in check.eligible.get(f.uscc, []):
            raise ValueError(f"fact {f.uscc},{f.inspector_id}: not a pair of the plan's {protocol.ELIGIBILITY_FILE}")
        if (f.uscc, f.inspector_id) not in known:
            new.setdefault((f.uscc, f.inspector_id), f)
    if not new:
        return []
    r = max((e.round for e in exclusions), default=0) + 1
    added = [
        Exclusion(f.uscc, f.inspector_id, f.reason, f.evidence, f.known_in, r)
        for f in sorted(new.values(), key=lambda f: (order[f.uscc], f.inspector_id))
    ]
    expected, _ = replay(check, [*exclusions, *added], {**months, r: amended_in})
    amended = [a for a in expected if a.round == r]
    _replace(folder / EXCLUSIONS_FILE, _csv_text(EXCLUSIONS_HEADER, (e.row() for e in [*exclusions, *added])))
    _replace(folder / AMENDMENTS_FILE, _csv_text(AMENDMENTS_HEADER, [*am_rows, *(a.row() for a in amended)]))
    return amended


def staffing(folder: Path, check: package.PackageCheck | None = None) -> Staffing:
    """The current inspectors of every task of a (verified) package, after its amendments."""
    folder = Path(folder)
    check, exclusions, am_rows = _state(folder, check)
    months, _ = _amended_in(am_rows)
    amended, slots = replay(check, exclusions, months)
    return Staffing(slots, amended, exclusions)
