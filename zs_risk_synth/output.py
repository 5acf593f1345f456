"""Landing files of the synthetic city: per-source tables of one delivery month, injected defects, writers.

Tables are built column by column with pyarrow compute (vectorised); CSV goes through pyarrow's writer,
quoted only when a value needs it; Parquet with fixed options; JSON Lines assembled from string columns.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from zs_risk_pipeline.lib.ingest import uscc as uscc_lib
from zs_risk_pipeline.lib.ingest.contract import Source
from zs_risk_synth import events as E
from zs_risk_synth import inspections as I
from zs_risk_synth import profiles as P
from zs_risk_synth import registry as R
from zs_risk_synth._util import Calendar, Events, dates32, decimal_str, int_str, iso_dates, join, vocab_take, workdays
from zs_risk_synth.population import Population

FORMATS = {"complaints": "jsonl", "licenses": "parquet"}  # everything else is CSV
DEFECT_CLASSES = (
    "bad_check_digit",
    "fullwidth",
    "lowercase",
    "chinese_date",
    "duplicate",
    "unknown_town",
    "future_date",
    "missing_value",
)
UNKNOWN_TOWN = "442000999"
CITY_BUREAU = "中山市市场监督管理局"
# A required column whose emptiness the ingestion can repair must not carry a missing_value defect:
# result codes are recovered from the Chinese result text.
NOT_EMPTIED = {"inspections": ("result_codes",)}


@dataclass
class World:
    """Everything generated, ready to be cut into monthly deliveries."""

    cal: Calendar
    pop: Population
    registry: Events
    reports: Events
    abnormal: Events
    dishonest: Events
    penalties: Events
    case_no: np.ndarray
    complaints: Events
    complaint_seq: np.ndarray
    licences: Events
    plans: Events  # one draw per row: month, plan, frame, sample
    inspections: Events
    codes: np.ndarray
    dept: np.ndarray
    inspector_1: np.ndarray
    inspector_2: np.ndarray
    task_seq: np.ndarray
    inspectors: I.Inspectors
    conflicts: Events
    recorded: np.ndarray  # per inspection: day its result was entered in the results system (录入日期)
    delivered: np.ndarray  # per inspection: month index of that day (cal.months: after the window, not delivered)
    delivery_day: np.ndarray  # per inspection: date of the weekly file delivering it
    chinese_headers: bool = False
    _cache: dict = field(default_factory=dict)


def month_slice(ev: Events, m: int) -> slice:
    lo, hi = np.searchsorted(ev["month"], [m, m + 1])
    return slice(int(lo), int(hi))


def _uscc(w: World, idx: np.ndarray) -> pa.Array:
    if "uscc" not in w._cache:  # convert the million codes to Arrow once, then take per delivery
        w._cache["uscc"] = pa.array(w.pop.uscc)
    return w._cache["uscc"].take(pa.array(np.asarray(idx, dtype=np.int64)))


def _bool_text(values: np.ndarray, chinese: bool) -> pa.Array:
    return vocab_take(("否", "是") if chinese else ("false", "true"), values.astype(np.int64))


def _int_or_null(values: np.ndarray) -> pa.Array:
    v = np.asarray(values, dtype=np.float64)
    mask = ~np.isfinite(v)
    return pc.if_else(pa.array(mask), pa.scalar(None, pa.string()), int_str(np.where(mask, 0, v).astype(np.int64)))


# --- per-source tables -------------------------------------------------------------------------------------


def table_registry(w: World, m: int) -> pa.Table:
    r = {k: v[month_slice(w.registry, m)] for k, v in w.registry.items()}
    pop, idx = w.pop, r["idx"]
    return pa.table(
        {
            "uscc": _uscc(w, idx),
            "name": R.names(pop, idx, r["brand"], r["nick"], pop.word[idx]),
            "entity_type": vocab_take([t.name for t in P.ENTITY_TYPES], pop.etype[idx]),
            "industry_code": vocab_take([i.code for i in P.industries()], pop.industry[idx]),
            "town_code": vocab_take([t.code for t in P.towns()], pop.town[idx]),
            "registered_capital": decimal_str(r["capital"]),
            "established_on": iso_dates(pop.est_day[idx]),
            "status": vocab_take(P.STATUS, r["status"]),
            "status_changed_on": iso_dates(r["status_day"]),
            "legal_rep_id": pa.array(pop.person_ids[r["person"]]),
            "address": R.addresses(
                pop, idx, r["road"], r["num"], r["extra_kind"], r["extra_a"], r["extra_b"], r["hub"]
            ),
            "record_date": iso_dates(r["day"]),
        }
    )


def table_annual_reports(w: World, m: int) -> pa.Table:
    r = {k: v[month_slice(w.reports, m)] for k, v in w.reports.items()}
    return pa.table(
        {
            "uscc": _uscc(w, r["idx"]),
            "report_year": int_str(r["year"]),
            "submitted_on": iso_dates(r["day"]),
            "employees": _int_or_null(r["employees"]),
            "social_insurance_count": _int_or_null(r["insured"]),
            "revenue": decimal_str(r["revenue"]),
            "total_assets": decimal_str(r["assets"]),
        }
    )


def _list_table(w: World, ev: Events, m: int, reasons: tuple[str, ...], by_branch: bool) -> pa.Table:
    r = {k: v[month_slice(ev, m)] for k, v in ev.items()}
    idx = r["idx"]
    authority = [CITY_BUREAU] + [f"{CITY_BUREAU}{t.branch_name}" for t in P.towns()]
    # Individual businesses are marked abnormal by their town branch; enterprises by the city bureau.
    who = np.where(by_branch & (w.pop.etype[idx] == P.INDIVIDUAL), 1 + w.pop.town[idx].astype(np.int64), 0)
    return pa.table(
        {
            "uscc": _uscc(w, idx),
            "action": vocab_take(("in", "out"), r["action"]),
            "reason_code": vocab_take(reasons, r["reason"]),
            "decided_on": iso_dates(r["day"]),
            "authority": vocab_take(authority, who),
        }
    )


def table_abnormal_list(w: World, m: int) -> pa.Table:
    return _list_table(w, w.abnormal, m, E.ABNORMAL_REASONS, True)


def table_dishonest_list(w: World, m: int) -> pa.Table:
    return _list_table(w, w.dishonest, m, E.DISHONEST_REASONS, False)


def table_penalties(w: World, m: int) -> pa.Table:
    s = month_slice(w.penalties, m)
    r = {k: v[s] for k, v in w.penalties.items()}
    case = w.case_no[s]
    return pa.table(
        {
            "case_no": join("中市监罚〔", int_str(case[:, 0]), "〕", int_str(case[:, 1]), "号"),
            "uscc": _uscc(w, r["idx"]),
            "decided_on": iso_dates(r["day"]),
            "violation_type": vocab_take(E.VIOLATION_TEXT, r["violation"]),
            "amount": decimal_str(r["amount"]),
            "severity": vocab_take(E.SEVERITY, r["severity"]),
        }
    )


def table_complaints(w: World, m: int) -> pa.Table:
    s = month_slice(w.complaints, m)
    r = {k: v[s] for k, v in w.complaints.items()}
    received = iso_dates(r["day"])
    sub = r["substantiated"]
    return pa.table(
        {
            "complaint_id": join(
                vocab_take(P.CHANNEL_PREFIX, r["channel"]),
                pc.replace_substring(received, "-", ""),
                int_str(w.complaint_seq[s], 7),
            ),
            "uscc": _uscc(w, r["idx"]),
            "received_on": received,
            "channel": vocab_take(P.CHANNELS, r["channel"]),
            "category": vocab_take(P.COMPLAINT_CATEGORIES, r["category"]),
            "substantiated": pa.array(sub == 1, pa.bool_(), mask=sub < 0),
        }
    )


def licence_numbers(w: World, lic: np.ndarray, idx: np.ndarray, domain: np.ndarray, issued: np.ndarray) -> pa.Array:
    """Licence numbers in the shapes of the issuing systems; unique because the serial is."""
    serial = lic.astype(np.int64) + 1
    individual = (w.pop.etype[idx] == P.INDIVIDUAL).astype(np.int64)
    year = int_str(issued.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970)
    forms = {
        P.FOOD: join("JY", int_str(1 + individual), "442000", int_str(serial, 6), int_str((serial * 7 + 3) % 10)),
        P.SPECIAL_EQUIPMENT: join("梯11粤T", int_str(serial, 6)),
        P.INDUSTRIAL_PRODUCT: join("粤XK06-014-", int_str(serial, 6)),
        P.DRUG: join("粤CB760", int_str(serial, 6)),
        P.MEDICAL_DEVICE: join("粤中药监械经营备", year, int_str(serial, 6), "号"),
        P.COSMETICS: join("粤妆", int_str(serial, 6)),
        P.OTHER: join("粤中许", int_str(serial, 6)),
    }
    out = forms[P.OTHER]
    for d, arr in forms.items():
        out = pc.if_else(pa.array(domain == d), arr, out)
    return out


def table_licenses(w: World, m: int) -> pa.Table:
    r = {k: v[month_slice(w.licences, m)] for k, v in w.licences.items()}
    # Medical-device filings keep the number of their first filing year: number from the first version.
    first_issue = w._cache.setdefault("lic_first", _first_issue(w.licences))
    return pa.table(
        {
            "license_no": licence_numbers(w, r["lic"], r["idx"], r["domain"], first_issue[r["lic"]]),
            "uscc": _uscc(w, r["idx"]),
            "domain": vocab_take(P.DOMAINS, r["domain"]),
            "issued_on": dates32(r["issued"]),
            "expires_on": dates32(r["expires"]),
            "status": vocab_take(E.LICENCE_STATUS, r["status"]),
        }
    )


def _first_issue(lic: Events) -> np.ndarray:
    n = int(lic["lic"].max()) + 1 if len(lic["lic"]) else 0
    out = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(out, lic["lic"], lic["issued"])
    return out


def table_plans(w: World, m: int) -> pa.Table:
    """The month's plan draws; plan_id as in the inspections, π only for random draws (sample / frame)."""
    r = {k: v[month_slice(w.plans, m)] for k, v in w.plans.items()}
    y, mo = w.cal.year_month(m)
    plan = r["plan"]
    random = np.array([p.kind == "random" for p in P.PLANS], dtype=bool)[plan]
    # Shortest text that reads back as the same double (like repr): weights 1/π lose nothing in transit.
    pi = pc.cast(pa.array(r["sample"] / np.maximum(r["frame"], 1)), pa.string())
    # Drawn on the month's first working day, before any of its inspections (picked on working days).
    drawn = iso_dates(np.full(len(plan), workdays(w.cal.month_start(m), w.cal.month_end(m))[0]))
    return pa.table(
        {
            "plan_id": join(vocab_take([p.prefix for p in P.PLANS], plan), f"-{y:04d}-{mo:02d}"),
            "plan_name": join(f"{y}年{mo}月", vocab_take([P.PLAN_NAMES[p.prefix] for p in P.PLANS], plan)),
            "department": vocab_take([p.department for p in P.PLANS], plan),
            "kind": vocab_take([p.kind for p in P.PLANS], plan),
            "drawn_on": drawn,
            "frame_size": int_str(r["frame"]),
            "sample_size": int_str(r["sample"]),
            "inclusion_probability": pc.if_else(pa.array(random), pi, pa.scalar(None, pa.string())),
        }
    )


def inspection_ids(w: World, rows: np.ndarray) -> tuple[pa.Array, pa.Array]:
    """Task and plan numbers of these inspections (plan-month-sequence; TR-… outside any plan), the month being
    the one of the inspection (a result may be delivered in the next)."""
    plan = w.inspections["plan"][rows].astype(np.int64)
    month = w.inspections["month"][rows].astype(np.int64)
    ym = [w.cal.year_month(m) for m in range(w.cal.months)]
    prefixes = [p.prefix for p in P.PLANS]
    plan_id = join(vocab_take(prefixes, np.maximum(plan, 0)), vocab_take([f"-{y:04d}-{mo:02d}" for y, mo in ym], month))
    plan_id = pc.if_else(pa.array(plan < 0), pa.scalar(None, pa.string()), plan_id)
    seq = int_str(w.task_seq[rows], 5)
    triggered = join(vocab_take([f"TR-{y:04d}{mo:02d}-" for y, mo in ym], month), seq)
    task_id = pc.if_else(pa.array(plan < 0), triggered, join(plan_id, "-", seq))
    return task_id, plan_id


def table_inspections(w: World, rows: np.ndarray) -> pa.Table:
    """These inspections' results as the results system exports them, with the day each was entered (录入日期)."""
    r = {k: v[rows] for k, v in w.inspections.items()}
    task_id, plan_id = inspection_ids(w, rows)
    codes = w.codes[rows]
    uniq, inv = np.unique(codes, return_inverse=True)
    code_text = [";".join(c for i, c in enumerate(I.CODES) if u >> i & 1) for u in uniq]
    wording = [t for _, t, _ in P.result_codes()]
    text = ["；".join(wording[i] for i in range(len(I.CODES)) if u >> i & 1) for u in uniq]
    ids = pa.array(w.inspectors.ids)
    i1, i2 = w.inspector_1[rows], w.inspector_2[rows]
    pair = join(ids.take(pa.array(np.maximum(i1, 0))), ";", ids.take(pa.array(np.maximum(i2, 0))))
    return pa.table(
        {
            "task_id": task_id,
            "plan_id": plan_id,
            "uscc": _uscc(w, r["idx"]),
            "inspected_on": iso_dates(r["day"]),
            "trigger": vocab_take(I.TRIGGER, r["trigger"]),
            "result_codes": vocab_take(code_text, inv),
            "result_text": vocab_take(text, inv),
            "department": vocab_take(P.DEPARTMENTS, w.dept[rows]),
            "inspector_ids": pc.if_else(pa.array(i1 < 0), pa.scalar(None, pa.string()), pair),
            "recorded_on": iso_dates(w.recorded[rows]),
        }
    )


def inspection_files(w: World, rows: np.ndarray) -> pa.Array:
    """The landing file delivering each of these results: inspections/<YYYY-MM>/inspections_<YYYYMMDD>.csv, in the
    folder of the month it was entered in, dated by its weekly delivery; null when entered after the window."""
    month = w.delivered[rows]
    labels = [w.cal.label(m) for m in range(w.cal.months)]
    stamp = pc.replace_substring(iso_dates(w.delivery_day[rows]), "-", "")
    path = join("inspections/", vocab_take(labels, np.minimum(month, w.cal.months - 1)), "/inspections_", stamp, ".csv")
    return pc.if_else(pa.array(month >= w.cal.months), pa.scalar(None, pa.string()), path)


def inspection_deliveries(w: World, m: int) -> list[tuple[str, pa.Table]]:
    """The weekly results files of delivery month m: every result entered in m, one file per delivery date."""
    rows = np.flatnonzero(w.delivered == m)
    files = np.asarray(inspection_files(w, rows).to_numpy(zero_copy_only=False), dtype=object)
    # Event order within a file: by inspection month, day and enterprise.
    return [(str(f), table_inspections(w, rows[files == f])) for f in sorted(set(files))]


def table_inspectors(w: World, m: int) -> pa.Table:
    insp = w.inspectors
    rows = insp.on_list(m)
    uniq, inv = np.unique(insp.quals[rows], return_inverse=True)
    qual_text = [";".join(q for i, q in enumerate(P.QUALIFICATIONS) if u >> i & 1) for u in uniq]
    branches = ["city"] + [t.code for t in P.towns()]
    return pa.table(
        {
            "inspector_id": pa.array(insp.ids[rows]),
            "department": vocab_take(P.DEPARTMENTS, insp.dept[rows]),
            "branch": vocab_take(branches, insp.branch[rows].astype(np.int64) + 1),
            "qualifications": vocab_take(qual_text, inv),
            "certificate_valid_until": iso_dates(insp.cert[m][rows]),
            "active": _bool_text(insp.active(m)[rows], w.chinese_headers),
        }
    )


def table_conflicts(w: World, m: int) -> pa.Table:
    r = {k: v[month_slice(w.conflicts, m)] for k, v in w.conflicts.items()}
    return pa.table(
        {
            "inspector_id": pa.array(w.inspectors.ids[r["insp"]]),
            "uscc": _uscc(w, r["idx"]),
            "reason": vocab_take(I.CONFLICT_REASONS, r["reason"]),
            "declared_on": iso_dates(r["day"]),
        }
    )


TABLES = {
    "registry": table_registry,
    "annual_reports": table_annual_reports,
    "abnormal_list": table_abnormal_list,
    "dishonest_list": table_dishonest_list,
    "penalties": table_penalties,
    "complaints": table_complaints,
    "licenses": table_licenses,
    "plans": table_plans,
    "inspectors": table_inspectors,
    "conflicts": table_conflicts,
}


# --- defects ----------------------------------------------------------------------------------------------


def inject_defects(
    table: pa.Table, source: Source, rng: np.random.Generator, rate: float, month_end: int
) -> tuple[pa.Table, dict[str, np.ndarray]]:
    """Give each data row, with probability `rate`, one defect of a class drawn uniformly; classes that
    cannot apply to this source (or row) fall back to one that can. Returns the table as it is to be
    written and the defects with their 1-based data-row numbers in that table."""
    n = table.num_rows
    hit = np.flatnonzero(rng.random(n) < rate)
    cls = rng.integers(0, len(DEFECT_CLASSES), len(hit))
    cols = {c.name: c for c in source.columns}
    has_uscc = "uscc" in cols
    date_cols = [c.name for c in source.columns if c.type == "date" and c.required]
    future_cols = [c for c in date_cols if not cols[c].future_ok]
    empty_cols = [c.name for c in source.columns if c.required and c.name not in NOT_EMPTIED.get(source.name, ())]
    ok = {
        "bad_check_digit": has_uscc,
        "fullwidth": has_uscc,
        "lowercase": has_uscc,
        "chinese_date": bool(date_cols),
        "duplicate": True,
        "unknown_town": source.name == "registry",
        "future_date": bool(future_cols),
        "missing_value": bool(empty_cols),
    }
    allowed = np.array([i for i, c in enumerate(DEFECT_CLASSES) if ok[c]])
    bad = ~np.isin(cls, allowed)
    cls[bad] = allowed[rng.integers(0, len(allowed), int(bad.sum()))]
    if has_uscc:  # lower-casing a code without letters changes nothing: make it full-width instead
        lower = hit[cls == DEFECT_CLASSES.index("lowercase")]
        vals = np.asarray(table.column("uscc").take(pa.array(lower)).to_numpy(zero_copy_only=False), dtype="U18")
        no_letter = np.char.upper(vals) == np.char.lower(vals)
        cls[np.flatnonzero(cls == DEFECT_CLASSES.index("lowercase"))[no_letter]] = DEFECT_CLASSES.index("fullwidth")

    edits: dict[str, list[tuple[np.ndarray, pa.Array]]] = {}
    column_of = np.full(len(hit), "", dtype=object)

    def edit(col: str, rows: np.ndarray, values: pa.Array, which: np.ndarray) -> None:
        edits.setdefault(col, []).append((rows, values))
        column_of[which] = col

    for k, name in enumerate(DEFECT_CLASSES):
        which = np.flatnonzero(cls == k)
        rows = hit[which]
        if not len(rows):
            continue
        if name in ("bad_check_digit", "fullwidth", "lowercase"):
            vals = np.asarray(table.column("uscc").take(pa.array(rows)).to_numpy(zero_copy_only=False), dtype="U18")
            edit("uscc", rows, pa.array(_uscc_defect(rng, name, vals)), which)
        elif name in ("chinese_date", "future_date"):
            choices = date_cols if name == "chinese_date" else future_cols
            pick = rng.integers(0, len(choices), len(rows))
            for j, col in enumerate(choices):
                sel = pick == j
                if not sel.any():
                    continue
                iso = np.asarray(
                    table.column(col).take(pa.array(rows[sel])).to_numpy(zero_copy_only=False), dtype="U10"
                )
                days = iso.astype("datetime64[D]")
                if name == "chinese_date":
                    month = days.astype("datetime64[M]")
                    y = month.astype("datetime64[Y]").astype(np.int64) + 1970
                    new = join(
                        int_str(y),
                        "年",
                        int_str(month.astype(np.int64) % 12 + 1),
                        "月",
                        int_str((days - month).astype(np.int64) + 1),
                        "日",
                    )
                else:
                    new = iso_dates(month_end + rng.integers(90, 500, int(sel.sum())))
                edit(col, rows[sel], new, which[sel])
        elif name == "unknown_town":
            edit("town_code", rows, pa.array([UNKNOWN_TOWN] * len(rows), pa.string()), which)
        elif name == "missing_value":
            pick = rng.integers(0, len(empty_cols), len(rows))
            for j, col in enumerate(empty_cols):
                sel = pick == j
                if sel.any():
                    edit(col, rows[sel], pa.nulls(int(sel.sum()), pa.string()), which[sel])

    for col, changes in edits.items():
        rows = np.concatenate([c[0] for c in changes])
        values = pa.concat_arrays([c[1].cast(pa.string()) for c in changes])
        order = np.argsort(rows, kind="stable")
        mask = np.zeros(n, dtype=bool)
        mask[rows] = True
        i = table.column_names.index(col)
        new_col = pc.replace_with_mask(table.column(col).combine_chunks(), pa.array(mask), values.take(pa.array(order)))
        table = table.set_column(i, col, new_col)

    dup = np.zeros(n, dtype=bool)
    dup[hit[cls == DEFECT_CLASSES.index("duplicate")]] = True
    before = np.cumsum(dup) - dup  # copies inserted above each row
    position = np.arange(n) + before + 1  # 1-based row number as written
    if dup.any():
        table = table.take(pa.array(np.repeat(np.arange(n), 1 + dup)))
    row_number = position[hit] + (cls == DEFECT_CLASSES.index("duplicate"))  # the copy follows the original
    order = np.argsort(row_number, kind="stable")
    return table, {
        "row_number": row_number[order],
        "column": column_of[order].astype(str),
        "defect_class": np.array(DEFECT_CLASSES)[cls][order],
    }


def _uscc_defect(rng: np.random.Generator, kind: str, vals: np.ndarray) -> np.ndarray:
    if kind == "lowercase":
        return np.char.lower(vals)
    codes = vals.view(np.uint32).reshape(len(vals), 18).copy()
    if kind == "fullwidth":
        return (codes + 0xFEE0).view("<U18").ravel()
    # bad check character: another character of the USCC set, so only the checksum fails
    charset = np.array([ord(c) for c in uscc_lib.CHARSET], dtype=np.uint32)
    pos = np.searchsorted(charset, codes[:, 17])
    codes[:, 17] = charset[(pos + rng.integers(1, 31, len(vals))) % 31]
    return codes.view("<U18").ravel()


# --- writers ----------------------------------------------------------------------------------------------


def _headers(table: pa.Table, source: Source, chinese: bool) -> pa.Table:
    if not chinese:
        return table
    alias = {c.name: c.alias for c in source.columns}
    return table.rename_columns([alias[n] for n in table.column_names])


def csv_bytes(table: pa.Table, encoding: str) -> bytes:
    """CSV with a header row, values quoted only where needed."""
    special = any(_has_special(col) for col in table.columns if pa.types.is_string(col.type))
    if special:  # pyarrow quotes every string or none: let the csv module quote just the fields that need it
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
        writer.writerow(table.column_names)
        writer.writerows(zip(*[["" if v is None else v for v in c.to_pylist()] for c in table.columns], strict=True))
        text = buf.getvalue()
        return text.encode(encoding)
    buf = io.BytesIO()
    buf.write((",".join(table.column_names) + "\n").encode("utf-8"))  # pyarrow would quote the header
    pacsv.write_csv(table, buf, pacsv.WriteOptions(include_header=False, quoting_style="none"))
    data = buf.getvalue()
    if encoding.replace("_", "-").lower() not in ("utf-8", "utf8"):
        data = data.decode("utf-8").encode(encoding)
    return data


def _has_special(col: pa.ChunkedArray) -> bool:
    """Whether any value holds a comma, quote or line break (scans the raw bytes: memchr speed)."""
    for chunk in col.chunks:
        data = chunk.buffers()[2]
        if data is not None and any(c in memoryview(data).tobytes() for c in (b",", b'"', b"\r", b"\n")):
            return True
    return False


def jsonl_bytes(table: pa.Table) -> bytes:
    """One JSON object per line: strings quoted, booleans as JSON booleans, nulls as null."""
    parts: list[pa.Array | str] = []
    for i, name in enumerate(table.column_names):
        col = table.column(i).combine_chunks()
        parts.append(("{" if i == 0 else ",") + json.dumps(name, ensure_ascii=False) + ":")
        if pa.types.is_boolean(col.type):
            text = pc.if_else(col, "true", "false")
        else:
            text = pc.replace_substring(pc.replace_substring(col.cast(pa.string()), "\\", "\\\\"), '"', '\\"')
            text = join('"', text, '"')
        parts.append(pc.fill_null(text, "null"))
    parts.append("}\n")
    lines = join(*parts) if table.num_rows else pa.array([], pa.string())
    return _concat_strings(lines)


def _concat_strings(arr: pa.Array) -> bytes:
    if not len(arr):
        return b""
    arr = pa.concat_arrays([arr]) if isinstance(arr, pa.ChunkedArray) else arr
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int32)[arr.offset : arr.offset + len(arr) + 1]
    return arr.buffers()[2].to_pybytes()[offsets[0] : offsets[-1]]


def write_table(table: pa.Table, path: Path, source: Source, *, encoding: str, chinese: bool) -> None:
    table = _headers(table, source, chinese)
    path.parent.mkdir(parents=True, exist_ok=True)
    fmt = FORMATS.get(source.name, "csv")
    if fmt == "parquet":
        pq.write_table(
            table,
            path,
            compression="zstd",
            compression_level=3,
            use_dictionary=True,
            write_statistics=True,
            data_page_version="1.0",
        )
    elif fmt == "jsonl":
        path.write_bytes(jsonl_bytes(table))
    else:
        path.write_bytes(csv_bytes(table, encoding))


def deliveries(w: World, source: str, m: int) -> list[tuple[str, pa.Table]]:
    """The landing files (path below landing/, table) of one source and delivery month: one monthly file, or
    the weekly results files of the inspectorate."""
    if source == "inspections":
        return inspection_deliveries(w, m)
    return [(file_name(source, w.cal, m), TABLES[source](w, m))]


def file_name(source: str, cal: Calendar, m: int) -> str:
    label = cal.label(m)
    ext = FORMATS.get(source, "csv")
    return f"{source}/{label}/{source}_{label.replace('-', '')}.{ext}"
