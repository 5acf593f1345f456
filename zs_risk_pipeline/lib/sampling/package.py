"""The verification package of a drawn plan (抽取核验包), draw protocol v1 (design.md §6).

Writing the package (frame, selection, eligibility, assignments, plan.json, signed commitment) and checking
one: every file re-read and the draw and pairing recomputed from the published seed. Plain Python, no Dagster.
"""

from __future__ import annotations

import csv
import heapq
import io
import json
import math
import os
import secrets
import shutil
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from zs_risk_pipeline.lib.core.digest import sha256_file
from zs_risk_pipeline.lib.evidence import signing
from zs_risk_pipeline.lib.sampling import protocol


def _text(value: Any) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)


def _write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def frame_csv(frame: pd.DataFrame) -> bytes:
    """frame.csv's bytes: the frame by (stratum, uscc). Its SHA-256 is signed with the seed commitment before the
    draw, so a frame edited afterwards (a firm dropped, the plan re-drawn with the same seed) is detected."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(protocol.FRAME_HEADER)
    ordered = frame.sort_values(["stratum", "uscc"], kind="stable")
    writer.writerows(zip(ordered["uscc"], ordered["stratum"], strict=True))
    return out.getvalue().encode("utf-8")


def commitment_problems(folder: Path, verifier: signing.Verifier) -> list[str]:
    """The package against its signed commitment (commitment.json): signed by the pipeline's key (checked with
    its public half), for this plan, for plan.json's seed, and for exactly the frame.csv in the package."""
    folder = Path(folder)
    path = folder / protocol.COMMITMENT_FILE
    if not path.is_file():
        return [f"{protocol.COMMITMENT_FILE}: missing: the package has no signed seed commitment"]
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        plan = json.loads((folder / protocol.PLAN_FILE).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as e:
        return [f"{protocol.COMMITMENT_FILE}: cannot be read ({e})"]
    problems = signing.commitment_problems(record, verifier)
    if record.get("plan_id") != plan.get("plan_id"):
        problems.append(f"{protocol.COMMITMENT_FILE}: commits plan {record.get('plan_id')}, not {plan.get('plan_id')}")
    if record.get("seed_commitment") != plan.get("seed_commitment"):
        problems.append(
            f"{protocol.COMMITMENT_FILE}: signed seed commitment {record.get('seed_commitment')} is not plan.json's "
            f"{plan.get('seed_commitment')}: the plan was re-drawn with another seed"
        )
    frame = folder / protocol.FRAME_FILE
    if frame.is_file() and sha256_file(frame) != record.get("frame_sha256"):
        problems.append(
            f"{protocol.FRAME_FILE}: SHA-256 {sha256_file(frame)} is not the frame signed before the draw "
            f"({record.get('frame_sha256')}): the frame was changed"
        )
    return problems


def write_package(
    folder: Path,
    plan: Mapping[str, Any],
    frame: pd.DataFrame,
    selection: pd.DataFrame,
    eligibility: pd.DataFrame,
    assignments: pd.DataFrame,
    commitment: Mapping[str, Any] | None = None,
    frame_bytes: bytes | None = None,
) -> Path:
    """Write the plan's verification package to `folder` (e.g. plans/<plan_id>/ in the home) and return it.

    Files are written into a hidden sibling folder, verified with `verify_package`, then renamed into place:
    readers never see half a package, and an inconsistent one is never published. An existing folder is
    never replaced. `selection` is the output of `draw` (it needs k); eligibility rows of enterprises outside
    the selection are left out (they have no task). `frame_bytes`: frame_csv(frame) when the caller has it
    already (its hash was committed before the draw).
    """
    folder = Path(folder)
    if folder.exists():
        raise FileExistsError(f"plan package {folder} already exists: a published plan is immutable (new plan_id)")
    if "k" not in selection.columns:
        raise ValueError("selection lacks column k (pass the output of draw())")
    protocol._check_text_columns(frame, protocol.FRAME_HEADER, "frame")
    protocol._check_text_columns(selection, protocol.FRAME_HEADER, "selection")
    protocol._check_text_columns(eligibility, protocol.ELIGIBILITY_HEADER, "eligibility")
    missing = [c for c in protocol.ASSIGNMENTS_HEADER if c not in assignments.columns]
    if missing:
        raise ValueError(f"assignments lacks column(s) {missing} (pass the output of assign())")
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = folder.parent / f".{folder.name}.tmp-{secrets.token_hex(4)}"
    tmp.mkdir()
    try:
        (tmp / protocol.FRAME_FILE).write_bytes(frame_csv(frame) if frame_bytes is None else frame_bytes)
        if commitment is not None:
            text = json.dumps(dict(commitment), ensure_ascii=False, indent=2, sort_keys=True) + "\n"
            (tmp / protocol.COMMITMENT_FILE).write_text(text, encoding="utf-8")

        sel = selection.sort_values(["k", "uscc"], kind="stable")
        u_text = [protocol.format_u(int(k)) for k in sel["k"].tolist()]  # the sample only, not the population
        _write_csv(
            tmp / protocol.SELECTION_FILE,
            protocol.SELECTION_HEADER,
            zip(sel["uscc"], sel["stratum"], u_text, strict=True),
        )

        elig = eligibility[eligibility["uscc"].isin(selection["uscc"])]
        elig = elig.sort_values(["uscc", "inspector_id"], kind="stable")
        _write_csv(
            tmp / protocol.ELIGIBILITY_FILE,
            protocol.ELIGIBILITY_HEADER,
            zip(elig["uscc"], elig["inspector_id"], strict=True),
        )

        walk = assignments[list(protocol.ASSIGNMENTS_HEADER)].itertuples(index=False, name=None)
        _write_csv(
            tmp / protocol.ASSIGNMENTS_FILE, protocol.ASSIGNMENTS_HEADER, ([_text(v) for v in row] for row in walk)
        )

        # eligibility.csv is the draw's input, not recomputable from the package: its hash pins what was known.
        doc = {**dict(plan), "eligibility_sha256": sha256_file(tmp / protocol.ELIGIBILITY_FILE)}
        text = json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
        (tmp / protocol.PLAN_FILE).write_text(text, encoding="utf-8")

        problems = verify_package(tmp)
        if problems:
            raise ValueError("refusing to publish an inconsistent plan package: " + "; ".join(problems[:5]))
        try:
            # rename() would quietly replace an empty folder created meanwhile: look once more first.
            if folder.exists():
                raise FileExistsError(f"plan package {folder} already exists: a published plan is immutable")
            os.rename(tmp, folder)
        except OSError as e:
            if isinstance(e, FileExistsError):
                raise
            raise FileExistsError(f"plan package {folder} already exists: a published plan is immutable") from e
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return folder


def _read_csv(path: Path, header: Sequence[str]) -> tuple[list[tuple[str, ...]], str | None]:
    """The data rows of a package CSV, or a problem when it cannot be read or its header is not `header`."""
    try:
        with path.open(encoding="utf-8", newline="") as f:
            reader = csv.reader(f)
            found = next(reader, None)
            if found is None or tuple(found) != tuple(header):
                return [], f"{path.name}: header is {','.join(found or [])!r}, expected {','.join(header)!r}"
            return [tuple(row) for row in reader], None
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        return [], f"{path.name}: cannot be read ({e})"


def _show(value: str) -> str:
    return value if value else "(empty)"


def _compare(
    name: str, header: Sequence[str], expected: list[tuple[str, ...]], found: list[tuple[str, ...]]
) -> list[str]:
    """Row-by-row comparison: the first mismatching rows described (data rows count from 1), then a count."""
    problems: list[str] = []
    differing = 0
    for i in range(max(len(expected), len(found))):
        want = expected[i] if i < len(expected) else None
        got = found[i] if i < len(found) else None
        if want == got:
            continue
        differing += 1
        if differing > protocol._MAX_LISTED:
            continue
        row = i + 1
        if want is None:
            problems.append(f"{name} row {row}: unexpected extra row {','.join(got or ())}")
        elif got is None:
            problems.append(f"{name} row {row}: missing, expected {','.join(want)}")
        elif len(got) != len(want):
            problems.append(f"{name} row {row}: {len(got)} fields, expected {len(want)}")
        else:
            j = next(j for j in range(len(want)) if want[j] != got[j])
            problems.append(f"{name} row {row}: expected {header[j]} {_show(want[j])}, found {_show(got[j])}")
    if len(found) != len(expected):
        problems.append(f"{name} has {len(found)} rows, expected {len(expected)}")
    if differing > protocol._MAX_LISTED:
        problems.append(f"{name}: {differing} rows differ from the recomputation in all")
    return problems


def _plan_problems(plan: Any) -> tuple[list[str], bool]:
    """Problems of plan.json on its own, and whether the draw can still be recomputed."""
    if not isinstance(plan, dict):
        return ["plan.json: not a JSON object"], False
    problems: list[str] = []
    if plan.get("algorithm") != protocol.ALGORITHM:
        return [
            f"plan.json: algorithm is {plan.get('algorithm')!r}, this verifier implements {protocol.ALGORITHM!r}"
        ], False
    seed = plan.get("seed")
    if not isinstance(seed, str) or not protocol._SEED.match(seed):
        return ["plan.json: seed is not 64 lowercase hex digits"], False
    if plan.get("seed_commitment") != protocol.commitment(seed):
        problems.append(
            f"plan.json: seed_commitment {plan.get('seed_commitment')!r} is not sha256 of the seed "
            f"({protocol.commitment(seed)})"
        )
    if not isinstance(plan.get("plan_id"), str) or not plan["plan_id"].strip():
        return [*problems, "plan.json: plan_id is missing"], False
    if not isinstance(plan.get("month"), str) or not plan["month"].strip():
        problems.append("plan.json: month is missing")
    known = plan.get("known_through")
    if not isinstance(known, str) or not protocol._MONTH.match(known):
        problems.append(f"plan.json: known_through must be the draw's delivery month cut-off YYYY-MM, found {known!r}")
    if not isinstance(plan.get("eligibility_sha256"), str):
        problems.append("plan.json: eligibility_sha256 is missing (what the draw knew cannot be checked)")
    cap = plan.get("workload_cap")
    if isinstance(cap, bool) or not isinstance(cap, int) or cap < 1:
        problems.append(f"plan.json: workload_cap must be a positive integer, found {cap!r}")
    strata = plan.get("strata")
    if not isinstance(strata, dict) or not strata:
        return [*problems, "plan.json: strata is missing or empty"], False
    for name, entry in strata.items():
        if not isinstance(entry, dict) or set(entry) != {"N", "rate", "n"}:
            return [*problems, f"plan.json: stratum {name!r} must have exactly N, rate and n"], False
    return problems, True


@dataclass
class PackageCheck:
    """What check_package found: the problems, and the package content it verified (for the amendments)."""

    problems: list[str]
    plan: dict[str, Any] = field(default_factory=dict)
    tasks: list[str] = field(default_factory=list)  # selected usccs in serving order, ascending (k, uscc)
    eligible: dict[str, list[str]] = field(default_factory=dict)  # uscc → eligible inspectors (file order)
    assignments: list[tuple[str, ...]] = field(default_factory=list)  # assignments.csv rows as recomputed
    complete: bool = False  # every file was read and recomputed (amendments can be replayed on it)


def _check_frame(
    frame: list[tuple[str, ...]], strata: dict[str, dict[str, Any]]
) -> tuple[list[str], dict[str, int] | None]:
    """frame.csv against plan.json: one row per enterprise, N per stratum, n from the rates."""
    problems: list[str] = []
    bad = next((i for i, row in enumerate(frame, start=1) if len(row) != len(protocol.FRAME_HEADER)), None)
    if bad is not None:
        return [
            f"{protocol.FRAME_FILE} row {bad}: {len(frame[bad - 1])} fields, expected {len(protocol.FRAME_HEADER)}"
        ], None
    seen: set[str] = set()
    repeated: list[tuple[int, str]] = []
    for row_number, (uscc, _) in enumerate(frame, start=1):
        if uscc in seen:
            repeated.append((row_number, uscc))
        seen.add(uscc)
    if repeated:
        problems.append(
            f"{protocol.FRAME_FILE} row {repeated[0][0]}: uscc {repeated[0][1]} appears more than once"
            f" ({len(repeated)} repeated rows in all)"
        )
    counts: dict[str, int] = {}
    for _, stratum in frame:
        counts[stratum] = counts.get(stratum, 0) + 1
    for stratum in sorted(set(counts) - set(strata)):
        problems.append(
            f"{protocol.FRAME_FILE}: stratum {stratum!r} ({counts[stratum]} rows) is not a stratum of plan.json"
        )
    try:
        sizes = protocol.stratum_sizes(
            {s: counts.get(s, 0) for s in strata}, {s: entry["rate"] for s, entry in strata.items()}
        )
    except ValueError as e:
        return [*problems, f"plan.json: {e}"], None
    for stratum in sorted(strata):
        entry = strata[stratum]
        if entry["N"] != counts.get(stratum, 0):
            problems.append(
                f"plan.json: stratum {stratum!r} has N={entry['N']!r}, frame.csv has {counts.get(stratum, 0)} rows"
            )
        if entry["n"] != sizes[stratum]:
            problems.append(
                f"plan.json: stratum {stratum!r} has n={entry['n']!r}, "
                f"min(N, ceil({entry['rate']} × N)) = {sizes[stratum]}"
            )
    return problems, sizes


def _check_eligibility(
    eligibility: list[tuple[str, ...]], selected: set[str]
) -> tuple[list[str], dict[str, list[str]]]:
    """eligibility.csv: one row per (task, inspector), tasks of this selection only."""
    problems: list[str] = []
    eligible: dict[str, list[str]] = {}
    pairs: set[tuple[str, ...]] = set()
    for row_number, row in enumerate(eligibility, start=1):
        if len(row) != len(protocol.ELIGIBILITY_HEADER):
            problems.append(f"{protocol.ELIGIBILITY_FILE} row {row_number}: {len(row)} fields, expected 2")
            continue
        if row in pairs:
            problems.append(f"{protocol.ELIGIBILITY_FILE} row {row_number}: {row[0]},{row[1]} appears more than once")
            continue
        pairs.add(row)
        if row[0] not in selected:
            problems.append(f"{protocol.ELIGIBILITY_FILE} row {row_number}: uscc {row[0]} is not in the selection")
            continue
        eligible.setdefault(row[0], []).append(row[1])
    return problems, eligible


def staffing_walk(
    seed: str, plan_id: str, tasks: Sequence[str], eligible: Mapping[str, Sequence[str]], cap: int
) -> list[tuple[str, ...]]:
    """assignments.csv recomputed: the greedy walk over the tasks in (k, uscc) order (the hashlib reference)."""
    load: dict[str, int] = {}
    rows: list[tuple[str, ...]] = []
    for uscc in tasks:
        candidates = sorted(eligible.get(uscc, []), key=lambda i, u=uscc: protocol.inspector_key(seed, plan_id, u, i))
        fit = [i for i in candidates if load.get(i, 0) < cap][:2]
        if len(fit) == 2:
            for i in fit:
                load[i] = load.get(i, 0) + 1
            rows.append((uscc, fit[0], fit[1], ""))
        else:
            rows.append((uscc, "", "", protocol.unassigned_reason(len(candidates), len(fit), cap)))
    return rows


def check_package(folder: Path) -> PackageCheck:
    """Recompute a verification package's draw from its own files (see verify_package), keeping what it read."""
    folder = Path(folder)
    missing = [name for name in protocol.PACKAGE_FILES if not (folder / name).is_file()]
    if missing:
        return PackageCheck([f"{folder}: missing {', '.join(missing)}"])
    try:
        plan = json.loads((folder / protocol.PLAN_FILE).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as e:
        return PackageCheck([f"plan.json: cannot be read ({e})"])
    problems, usable = _plan_problems(plan)
    if not usable:
        return PackageCheck(problems)
    seed: str = plan["seed"]
    plan_id: str = plan["plan_id"]
    strata: dict[str, dict[str, Any]] = plan["strata"]
    cap = plan["workload_cap"]

    frame, problem = _read_csv(folder / protocol.FRAME_FILE, protocol.FRAME_HEADER)
    if problem:
        return PackageCheck([*problems, problem])
    found, sizes = _check_frame(frame, strata)
    problems += found
    if sizes is None:
        return PackageCheck(problems)

    # selection.csv: the n smallest (k, uscc) of each stratum, listed by (k, uscc) over the plan.
    keyed: dict[str, list[tuple[int, str]]] = {s: [] for s in strata}
    for uscc, stratum in frame:
        if stratum in keyed:
            keyed[stratum].append((protocol.key(seed, plan_id, uscc), uscc))
    chosen: list[tuple[int, str, str]] = []
    for stratum, items in keyed.items():
        chosen.extend((k, uscc, stratum) for k, uscc in heapq.nsmallest(sizes[stratum], items))
    chosen.sort()
    expected_selection = [(uscc, stratum, protocol.format_u(k)) for k, uscc, stratum in chosen]
    selection, problem = _read_csv(folder / protocol.SELECTION_FILE, protocol.SELECTION_HEADER)
    problems.extend(
        [problem]
        if problem
        else _compare(protocol.SELECTION_FILE, protocol.SELECTION_HEADER, expected_selection, selection)
    )

    eligibility, problem = _read_csv(folder / protocol.ELIGIBILITY_FILE, protocol.ELIGIBILITY_HEADER)
    if problem:
        return PackageCheck([*problems, problem])
    recorded = plan.get("eligibility_sha256")
    if isinstance(recorded, str) and sha256_file(folder / protocol.ELIGIBILITY_FILE) != recorded:
        problems.append(f"{protocol.ELIGIBILITY_FILE}: SHA-256 differs from the eligibility_sha256 the draw recorded")
    tasks = [uscc for _, uscc, _ in chosen]
    found, eligible = _check_eligibility(eligibility, set(tasks))
    problems += found

    if isinstance(cap, bool) or not isinstance(cap, int) or cap < 1:
        return PackageCheck(problems)  # already reported; the walk is undefined without a cap
    expected_assignments = staffing_walk(seed, plan_id, tasks, eligible, cap)
    assignments, problem = _read_csv(folder / protocol.ASSIGNMENTS_FILE, protocol.ASSIGNMENTS_HEADER)
    problems.extend(
        [problem]
        if problem
        else _compare(protocol.ASSIGNMENTS_FILE, protocol.ASSIGNMENTS_HEADER, expected_assignments, assignments)
    )
    return PackageCheck(problems, plan, tasks, eligible, expected_assignments, complete=True)


def verify_package(folder: Path) -> list[str]:
    """Recompute a verification package's draw from its own files; [] when everything matches.

    Independent of `draw`/`assign` (plain hashlib, no DuckDB): checks the seed commitment and algorithm,
    what the draw knew (known_through, the SHA-256 of eligibility.csv), N per stratum against frame.csv, n
    against the rates, selection.csv row by row (uscc, stratum, u), and assignments.csv against the walk
    recomputed from eligibility.csv and workload_cap. Problems come in file order, the first mismatch of each
    file first; rows are data rows counted from 1 after the header. The amendments recorded later in the
    package are verified by lib/sampling/amendments.py `verify`, which calls this first.
    """
    return check_package(folder).problems
