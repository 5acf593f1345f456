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
  (sql/intermediate/draw.sql#selection): the frame is the whole city.
- `assign(conn, selection, eligibility, seed, plan_id, workload_cap)`: two inspectors per task. Tasks in
  ascending (k, uscc) order; each takes the first two eligible inspectors, ordered by
  sha256("seed|plan_id|uscc|inspector_id"), still below the workload cap. The hash ordering is SQL
  (sql/intermediate/draw.sql#assignment_order); the walk is sequential by nature (each task sees the loads left by the
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

import decimal
import hashlib
import re
import secrets
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from zs_risk_pipeline.lib.core.month import Month
from zs_risk_pipeline.lib.core.sql import load_sql

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


# Lowercase only: the seed string itself is hashed, so "AB…" and "ab…" would be two different draws.
_SEED = re.compile(r"^[0-9a-f]{64}$")


# Plain decimal notation only ("0.05", "1", "0.125"): no exponent, sign, blanks or NaN.
_RATE = re.compile(r"^[0-9]+(\.[0-9]+)?$")


_MAX_LISTED = 1  # mismatching rows described per file; the rest are counted


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
    if not isinstance(known_through, str) or not Month.is_label(known_through):
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
        selection = conn.execute(load_sql("intermediate/draw.sql#selection"), params).df()
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
        order = conn.execute(
            load_sql("intermediate/draw.sql#assignment_order"), {"seed": seed, "plan_id": plan_id}
        ).df()
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
