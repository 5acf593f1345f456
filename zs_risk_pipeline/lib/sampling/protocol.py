"""Verifiable draw protocol v1 (双随机抽取 and 检查人员匹配, design.md §6): draw-v1.

Why: a random inspection plan is only trusted when anyone holding its restricted verification package
(auditors, 纪检监察) can recompute it. Everything is therefore keyed SHA-256 of published strings: no DuckDB
`hash()` and no numpy random stream, neither of which is stable across versions.

- `new_seed()`, `commitment(seed)`: 64 hex digits from `secrets`, and the SHA-256 commitment recorded before
  the draw.
- `stratum_sizes(counts, rates)`: n_h = min(N_h, ceil(rate_h × N_h)) in exact decimal arithmetic; rates are
  decimal strings ("0.05"), never binary floats.
- `draw(conn, frame, rates, seed, plan_id)`: the 抽查名单. k = first 8 bytes of sha256("seed|plan_id|uscc")
  as a big-endian unsigned integer; in each stratum the n_h smallest (k, uscc). Set-based in DuckDB
  (sql/sampling/draw.sql): the frame is the whole city.
- `assign(conn, selection, eligibility, seed, plan_id, workload_cap)`: two inspectors per task. Tasks in
  ascending (k, uscc) order; each takes the first two eligible inspectors, ordered by
  sha256("seed|plan_id|uscc|inspector_id"), still below the workload cap. The hash ordering is SQL
  (sql/sampling/assign_order.sql); the walk is sequential by nature (each task sees the loads left by the
  earlier ones) and runs in Python over the sample only. A task nobody can take keeps a reason: reported,
  never dropped.
- `write_package(folder, ...)`: the verification package (plan.json, frame.csv, selection.csv,
  eligibility.csv, assignments.csv), verified, then renamed into place; an existing package is never
  overwritten (a published plan is immutable). plan.json records what the draw knew: the delivery month
  cut-off (`known_through`) and the SHA-256 of eligibility.csv, the one file that cannot be recomputed.
- `verify_package(folder)` / `check_package(folder)`: recomputes the draw with plain `hashlib` (no DuckDB, no
  pandas), the reference any third party can rerun; returns the problems found, first mismatch first (and,
  from check_package, the verified content that lib/sampling/amendments.py replays its amendments on).

Plain Python, no Dagster.
"""

from __future__ import annotations

import csv
import decimal
import hashlib
import heapq
import io
import json
import math
import os
import re
import secrets
import shutil
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from zs_risk_pipeline.lib.core.digest import sha256_file
from zs_risk_pipeline.lib.core.sql import load_sql
from zs_risk_pipeline.lib.evidence import signing

ALGORITHM = "draw-v1"
TWO_64 = 2**64

PLAN_FILE = "plan.json"
FRAME_FILE = "frame.csv"
SELECTION_FILE = "selection.csv"
ELIGIBILITY_FILE = "eligibility.csv"
ASSIGNMENTS_FILE = "assignments.csv"
PACKAGE_FILES = (PLAN_FILE, FRAME_FILE, SELECTION_FILE, ELIGIBILITY_FILE, ASSIGNMENTS_FILE)
# The signed seed commitment made before the draw (lib/evidence/signing.py), with the SHA-256 of the frame it drew from.
COMMITMENT_FILE = "commitment.json"

FRAME_HEADER = ("uscc", "stratum")
SELECTION_HEADER = ("uscc", "stratum", "u")
ELIGIBILITY_HEADER = ("uscc", "inspector_id")
ASSIGNMENTS_HEADER = ("uscc", "inspector_1", "inspector_2", "unassigned_reason")
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")

# Lowercase only: the seed string itself is hashed, so "AB…" and "ab…" would be two different draws.
_SEED = re.compile(r"^[0-9a-f]{64}$")
# Plain decimal notation only ("0.05", "1", "0.125"): no exponent, sign, blanks or NaN.
_RATE = re.compile(r"^[0-9]+(\.[0-9]+)?$")
_MAX_LISTED = 1  # mismatching rows described per file; the rest are counted


# ---------------------------------------------------------------------------------------------------------
# Seed, keys, sizes: the reference formulas, in plain Python


def new_seed() -> str:
    """A fresh seed: 256 bits from the operating system's secure source, as 64 lowercase hex digits."""
    return secrets.token_hex(32)


def commitment(seed: str) -> str:
    """The seed commitment recorded before the draw: sha256 of the seed's ASCII text, hex."""
    return hashlib.sha256(seed.encode("ascii")).hexdigest()


def check_seed(seed: Any) -> str:
    if not isinstance(seed, str) or not _SEED.match(seed):
        raise ValueError("seed must be 64 lowercase hex digits (use new_seed())")
    return seed


def _check_plan_id(plan_id: Any) -> str:
    if not isinstance(plan_id, str) or not plan_id.strip():
        raise ValueError("plan_id must be a non-empty text")
    return plan_id


def key(seed: str, plan_id: str, uscc: str) -> int:
    """k(uscc): the first 8 bytes of sha256("seed|plan_id|uscc") as a big-endian unsigned integer."""
    return int.from_bytes(hashlib.sha256(f"{seed}|{plan_id}|{uscc}".encode()).digest()[:8], "big")


def inspector_key(seed: str, plan_id: str, uscc: str, inspector_id: str) -> bytes:
    """The digest that orders a task's eligible inspectors (ascending bytes)."""
    return hashlib.sha256(f"{seed}|{plan_id}|{uscc}|{inspector_id}".encode()).digest()


def format_u(k: int) -> str:
    """u = k / 2**64 as written to selection.csv: the shortest text that reads back as the same double."""
    return repr(k / TWO_64)


def parse_rate(stratum: str, rate: Any) -> Decimal:
    """A stratum's rate as an exact Decimal in [0, 1]; floats are refused because 0.03 is not 3/100 in binary."""
    if not isinstance(rate, str) or not _RATE.match(rate):
        raise ValueError(
            f'stratum {stratum!r}: rate must be a decimal string such as "0.05", got {rate!r}'
            + (" (quote it in YAML so it is not read as a binary float)" if isinstance(rate, float) else "")
        )
    value = Decimal(rate)
    if value > 1:
        raise ValueError(f"stratum {stratum!r}: rate {rate} is above 1")
    return value


def stratum_sizes(frame_counts: Mapping[str, int], rates: Mapping[str, str]) -> dict[str, int]:
    """n_h = min(N_h, ceil(rate_h × N_h)) per stratum of `rates`, exactly (strata absent from the frame get 0).

    A frame stratum without a rate is refused: every enterprise of the frame must belong to the plan.
    """
    unknown = sorted(set(frame_counts) - set(rates))
    if unknown:
        raise ValueError(f"stratum {unknown[0]!r} is in the frame but has no rate")
    sizes: dict[str, int] = {}
    for stratum in sorted(rates):
        rate = parse_rate(stratum, rates[stratum])
        count = frame_counts.get(stratum, 0)
        if isinstance(count, bool) or not isinstance(count, int | np.integer) or count < 0:
            raise ValueError(f"stratum {stratum!r}: N must be a non-negative integer, got {count!r}")
        count = int(count)
        # Enough digits for the exact product, and Inexact trapped: the ceiling is never of a rounded value.
        digits = len(rate.as_tuple().digits) + len(str(count)) + 2
        with decimal.localcontext() as ctx:
            ctx.prec = digits
            ctx.traps[decimal.Inexact] = True
            product = rate * count
            n = int(product.to_integral_value(rounding=decimal.ROUND_CEILING))
        sizes[stratum] = min(count, n)
    return sizes


def unassigned_reason(eligible: int, fit: int, workload_cap: int) -> str:
    """Why a task got no inspector pair (part of the package: the verifier compares it)."""
    if eligible < 2:
        return f"fewer than two eligible inspectors ({eligible})"
    return f"eligible inspectors at the workload cap ({fit} of {eligible} below {workload_cap})"


def new_plan(
    plan_id: str,
    month: str,
    seed: str,
    rates: Mapping[str, str],
    frame: pd.DataFrame,
    workload_cap: int,
    known_through: str,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The plan.json document of a draw: N and n per stratum from the frame, the seed and its commitment, and
    `known_through` ('YYYY-MM'): the last delivery month whose data the draw used (its point in time).
    write_package adds the SHA-256 of eligibility.csv. `extra` fields (e.g. the policy version) are recorded
    as they are; they never change the draw."""
    check_seed(seed)
    _check_plan_id(plan_id)
    _check_cap(workload_cap)
    if not isinstance(known_through, str) or not _MONTH.match(known_through):
        raise ValueError(f"known_through must be a month YYYY-MM, got {known_through!r}")
    counts = _frame_counts(frame)
    sizes = stratum_sizes(counts, rates)
    reserved = {"plan_id", "month", "algorithm", "seed", "seed_commitment", "workload_cap", "strata"}
    clash = sorted(set(extra or {}) & (reserved | {"known_through", "eligibility_sha256"}))
    if clash:
        raise ValueError(f"extra plan fields {clash} would overwrite the protocol's own")
    return {
        **dict(extra or {}),
        "plan_id": plan_id,
        "month": month,
        "algorithm": ALGORITHM,
        "seed": seed,
        "seed_commitment": commitment(seed),
        "workload_cap": workload_cap,
        "known_through": known_through,
        "strata": {s: {"N": counts.get(s, 0), "rate": rates[s], "n": sizes[s]} for s in sorted(rates)},
    }


# ---------------------------------------------------------------------------------------------------------
# The draw and the assignment (DuckDB set-based; the walk over the sample in Python)


def _check_text_columns(df: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{what} lacks column(s) {missing}")
    for c in columns:
        if df[c].isna().any():
            raise ValueError(f"{what}: column {c} has empty values")
        if len(df) and not pd.api.types.is_string_dtype(df[c]):
            raise ValueError(f"{what}: column {c} must hold text")


def _check_unique(df: pd.DataFrame, columns: list[str], what: str) -> None:
    dup = df.duplicated(columns)
    if dup.any():
        first = df.loc[dup, columns].iloc[0].tolist()
        raise ValueError(f"{what}: {', '.join(columns)} {', '.join(map(str, first))} appears more than once")


def _check_cap(workload_cap: Any) -> int:
    if isinstance(workload_cap, bool) or not isinstance(workload_cap, int) or workload_cap < 1:
        raise ValueError(f"workload_cap must be a positive integer, got {workload_cap!r}")
    return workload_cap


def _frame_counts(frame: pd.DataFrame) -> dict[str, int]:
    _check_text_columns(frame, FRAME_HEADER, "frame")
    _check_unique(frame, ["uscc"], "frame")
    return {str(s): int(n) for s, n in frame["stratum"].value_counts().items()}


def draw(
    conn: duckdb.DuckDBPyConnection, frame: pd.DataFrame, rates: Mapping[str, str], seed: str, plan_id: str
) -> pd.DataFrame:
    """The selection (抽查名单): columns uscc, stratum, k (uint64), u, in ascending (k, uscc) order.

    The frame's row order does not matter; every uscc must appear once and every stratum must have a rate.
    """
    check_seed(seed)
    _check_plan_id(plan_id)
    sizes = stratum_sizes(_frame_counts(frame), rates)
    columns = {"uscc": pd.Series(dtype=object), "stratum": pd.Series(dtype=object)}
    if frame.empty:
        return pd.DataFrame({**columns, "k": pd.Series(dtype="uint64"), "u": pd.Series(dtype="float64")})
    strata = list(sizes)
    conn.register("_draw_frame", frame[list(FRAME_HEADER)])
    try:
        params = {"seed": seed, "plan_id": plan_id, "strata": strata, "sizes": [sizes[s] for s in strata]}
        selection = conn.execute(load_sql("sampling/draw.sql"), params).df()
    finally:
        conn.unregister("_draw_frame")
    return selection.astype({"k": "uint64", "u": "float64"}).reset_index(drop=True)


def assign(
    conn: duckdb.DuckDBPyConnection,
    selection: pd.DataFrame,
    eligibility: pd.DataFrame,
    seed: str,
    plan_id: str,
    workload_cap: int,
) -> pd.DataFrame:
    """Inspector pairs (检查人员匹配): uscc, inspector_1, inspector_2, unassigned_reason, one row per selected
    task in the order tasks were served, ascending (k, uscc).

    Eligibility rows of enterprises outside the selection are ignored (they have no task).
    """
    check_seed(seed)
    _check_plan_id(plan_id)
    _check_cap(workload_cap)
    _check_text_columns(selection, ["uscc"], "selection")
    _check_unique(selection, ["uscc"], "selection")
    _check_text_columns(eligibility, ELIGIBILITY_HEADER, "eligibility")
    _check_unique(eligibility, list(ELIGIBILITY_HEADER), "eligibility")
    if selection.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in ASSIGNMENTS_HEADER})

    conn.register("_draw_tasks", selection[["uscc"]])
    conn.register("_draw_eligibility", eligibility[list(ELIGIBILITY_HEADER)])
    try:
        order = conn.execute(load_sql("sampling/assign_order.sql"), {"seed": seed, "plan_id": plan_id}).df()
    finally:
        conn.unregister("_draw_tasks")
        conn.unregister("_draw_eligibility")

    # One run of rows per task (already in serving order), its candidates in hash order.
    usccs = order["uscc"].to_numpy(dtype=object)
    inspectors = order["inspector_id"].to_numpy(dtype=object)
    present = order["inspector_id"].notna().to_numpy()
    starts = np.flatnonzero(np.r_[True, usccs[1:] != usccs[:-1]])
    ends = np.r_[starts[1:], len(usccs)]

    load: dict[str, int] = {}
    rows: list[tuple[str, str | None, str | None, str | None]] = []
    for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
        candidates = inspectors[start:end][present[start:end]].tolist()
        # Sequential on purpose: a task sees the loads left by every task served before it.
        chosen = [i for i in candidates if load.get(i, 0) < workload_cap][:2]
        if len(chosen) == 2:
            for i in chosen:
                load[i] = load.get(i, 0) + 1
            rows.append((usccs[start], chosen[0], chosen[1], None))
        else:
            rows.append((usccs[start], None, None, unassigned_reason(len(candidates), len(chosen), workload_cap)))
    return pd.DataFrame(rows, columns=list(ASSIGNMENTS_HEADER), dtype=object)


# ---------------------------------------------------------------------------------------------------------
# The verification package


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
    writer.writerow(FRAME_HEADER)
    ordered = frame.sort_values(["stratum", "uscc"], kind="stable")
    writer.writerows(zip(ordered["uscc"], ordered["stratum"], strict=True))
    return out.getvalue().encode("utf-8")


def commitment_problems(folder: Path, verifier: signing.Verifier) -> list[str]:
    """The package against its signed commitment (commitment.json): signed by the pipeline's key (checked with
    its public half), for this plan, for plan.json's seed, and for exactly the frame.csv in the package."""
    folder = Path(folder)
    path = folder / COMMITMENT_FILE
    if not path.is_file():
        return [f"{COMMITMENT_FILE}: missing: the package has no signed seed commitment"]
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        plan = json.loads((folder / PLAN_FILE).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as e:
        return [f"{COMMITMENT_FILE}: cannot be read ({e})"]
    problems = signing.commitment_problems(record, verifier)
    if record.get("plan_id") != plan.get("plan_id"):
        problems.append(f"{COMMITMENT_FILE}: commits plan {record.get('plan_id')}, not {plan.get('plan_id')}")
    if record.get("seed_commitment") != plan.get("seed_commitment"):
        problems.append(
            f"{COMMITMENT_FILE}: signed seed commitment {record.get('seed_commitment')} is not plan.json's "
            f"{plan.get('seed_commitment')}: the plan was re-drawn with another seed"
        )
    frame = folder / FRAME_FILE
    if frame.is_file() and sha256_file(frame) != record.get("frame_sha256"):
        problems.append(
            f"{FRAME_FILE}: SHA-256 {sha256_file(frame)} is not the frame signed before the draw "
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
    _check_text_columns(frame, FRAME_HEADER, "frame")
    _check_text_columns(selection, FRAME_HEADER, "selection")
    _check_text_columns(eligibility, ELIGIBILITY_HEADER, "eligibility")
    missing = [c for c in ASSIGNMENTS_HEADER if c not in assignments.columns]
    if missing:
        raise ValueError(f"assignments lacks column(s) {missing} (pass the output of assign())")
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = folder.parent / f".{folder.name}.tmp-{secrets.token_hex(4)}"
    tmp.mkdir()
    try:
        (tmp / FRAME_FILE).write_bytes(frame_csv(frame) if frame_bytes is None else frame_bytes)
        if commitment is not None:
            text = json.dumps(dict(commitment), ensure_ascii=False, indent=2, sort_keys=True) + "\n"
            (tmp / COMMITMENT_FILE).write_text(text, encoding="utf-8")

        sel = selection.sort_values(["k", "uscc"], kind="stable")
        u_text = [format_u(int(k)) for k in sel["k"].tolist()]  # the sample only, not the population
        _write_csv(tmp / SELECTION_FILE, SELECTION_HEADER, zip(sel["uscc"], sel["stratum"], u_text, strict=True))

        elig = eligibility[eligibility["uscc"].isin(selection["uscc"])]
        elig = elig.sort_values(["uscc", "inspector_id"], kind="stable")
        _write_csv(tmp / ELIGIBILITY_FILE, ELIGIBILITY_HEADER, zip(elig["uscc"], elig["inspector_id"], strict=True))

        walk = assignments[list(ASSIGNMENTS_HEADER)].itertuples(index=False, name=None)
        _write_csv(tmp / ASSIGNMENTS_FILE, ASSIGNMENTS_HEADER, ([_text(v) for v in row] for row in walk))

        # eligibility.csv is the draw's input, not recomputable from the package: its hash pins what was known.
        doc = {**dict(plan), "eligibility_sha256": sha256_file(tmp / ELIGIBILITY_FILE)}
        text = json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
        (tmp / PLAN_FILE).write_text(text, encoding="utf-8")

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
        if differing > _MAX_LISTED:
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
    if differing > _MAX_LISTED:
        problems.append(f"{name}: {differing} rows differ from the recomputation in all")
    return problems


def _plan_problems(plan: Any) -> tuple[list[str], bool]:
    """Problems of plan.json on its own, and whether the draw can still be recomputed."""
    if not isinstance(plan, dict):
        return ["plan.json: not a JSON object"], False
    problems: list[str] = []
    if plan.get("algorithm") != ALGORITHM:
        return [f"plan.json: algorithm is {plan.get('algorithm')!r}, this verifier implements {ALGORITHM!r}"], False
    seed = plan.get("seed")
    if not isinstance(seed, str) or not _SEED.match(seed):
        return ["plan.json: seed is not 64 lowercase hex digits"], False
    if plan.get("seed_commitment") != commitment(seed):
        problems.append(
            f"plan.json: seed_commitment {plan.get('seed_commitment')!r} is not sha256 of the seed ({commitment(seed)})"
        )
    if not isinstance(plan.get("plan_id"), str) or not plan["plan_id"].strip():
        return [*problems, "plan.json: plan_id is missing"], False
    if not isinstance(plan.get("month"), str) or not plan["month"].strip():
        problems.append("plan.json: month is missing")
    known = plan.get("known_through")
    if not isinstance(known, str) or not _MONTH.match(known):
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
    bad = next((i for i, row in enumerate(frame, start=1) if len(row) != len(FRAME_HEADER)), None)
    if bad is not None:
        return [f"{FRAME_FILE} row {bad}: {len(frame[bad - 1])} fields, expected {len(FRAME_HEADER)}"], None
    seen: set[str] = set()
    repeated: list[tuple[int, str]] = []
    for row_number, (uscc, _) in enumerate(frame, start=1):
        if uscc in seen:
            repeated.append((row_number, uscc))
        seen.add(uscc)
    if repeated:
        problems.append(
            f"{FRAME_FILE} row {repeated[0][0]}: uscc {repeated[0][1]} appears more than once"
            f" ({len(repeated)} repeated rows in all)"
        )
    counts: dict[str, int] = {}
    for _, stratum in frame:
        counts[stratum] = counts.get(stratum, 0) + 1
    for stratum in sorted(set(counts) - set(strata)):
        problems.append(f"{FRAME_FILE}: stratum {stratum!r} ({counts[stratum]} rows) is not a stratum of plan.json")
    try:
        sizes = stratum_sizes({s: counts.get(s, 0) for s in strata}, {s: entry["rate"] for s, entry in strata.items()})
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
        if len(row) != len(ELIGIBILITY_HEADER):
            problems.append(f"{ELIGIBILITY_FILE} row {row_number}: {len(row)} fields, expected 2")
            continue
        if row in pairs:
            problems.append(f"{ELIGIBILITY_FILE} row {row_number}: {row[0]},{row[1]} appears more than once")
            continue
        pairs.add(row)
        if row[0] not in selected:
            problems.append(f"{ELIGIBILITY_FILE} row {row_number}: uscc {row[0]} is not in the selection")
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
        candidates = sorted(eligible.get(uscc, []), key=lambda i, u=uscc: inspector_key(seed, plan_id, u, i))
        fit = [i for i in candidates if load.get(i, 0) < cap][:2]
        if len(fit) == 2:
            for i in fit:
                load[i] = load.get(i, 0) + 1
            rows.append((uscc, fit[0], fit[1], ""))
        else:
            rows.append((uscc, "", "", unassigned_reason(len(candidates), len(fit), cap)))
    return rows


def check_package(folder: Path) -> PackageCheck:
    """Recompute a verification package's draw from its own files (see verify_package), keeping what it read."""
    folder = Path(folder)
    missing = [name for name in PACKAGE_FILES if not (folder / name).is_file()]
    if missing:
        return PackageCheck([f"{folder}: missing {', '.join(missing)}"])
    try:
        plan = json.loads((folder / PLAN_FILE).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as e:
        return PackageCheck([f"plan.json: cannot be read ({e})"])
    problems, usable = _plan_problems(plan)
    if not usable:
        return PackageCheck(problems)
    seed: str = plan["seed"]
    plan_id: str = plan["plan_id"]
    strata: dict[str, dict[str, Any]] = plan["strata"]
    cap = plan["workload_cap"]

    frame, problem = _read_csv(folder / FRAME_FILE, FRAME_HEADER)
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
            keyed[stratum].append((key(seed, plan_id, uscc), uscc))
    chosen: list[tuple[int, str, str]] = []
    for stratum, items in keyed.items():
        chosen.extend((k, uscc, stratum) for k, uscc in heapq.nsmallest(sizes[stratum], items))
    chosen.sort()
    expected_selection = [(uscc, stratum, format_u(k)) for k, uscc, stratum in chosen]
    selection, problem = _read_csv(folder / SELECTION_FILE, SELECTION_HEADER)
    problems.extend([problem] if problem else _compare(SELECTION_FILE, SELECTION_HEADER, expected_selection, selection))

    eligibility, problem = _read_csv(folder / ELIGIBILITY_FILE, ELIGIBILITY_HEADER)
    if problem:
        return PackageCheck([*problems, problem])
    recorded = plan.get("eligibility_sha256")
    if isinstance(recorded, str) and sha256_file(folder / ELIGIBILITY_FILE) != recorded:
        problems.append(f"{ELIGIBILITY_FILE}: SHA-256 differs from the eligibility_sha256 the draw recorded")
    tasks = [uscc for _, uscc, _ in chosen]
    found, eligible = _check_eligibility(eligibility, set(tasks))
    problems += found

    if isinstance(cap, bool) or not isinstance(cap, int) or cap < 1:
        return PackageCheck(problems)  # already reported; the walk is undefined without a cap
    expected_assignments = staffing_walk(seed, plan_id, tasks, eligible, cap)
    assignments, problem = _read_csv(folder / ASSIGNMENTS_FILE, ASSIGNMENTS_HEADER)
    problems.extend(
        [problem] if problem else _compare(ASSIGNMENTS_FILE, ASSIGNMENTS_HEADER, expected_assignments, assignments)
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
