"""Landing files of the synthetic city: per-source tables of one delivery month, injected defects, writers.

Tables are built column by column with pyarrow compute (vectorised); CSV goes through pyarrow's writer,
quoted only when a value needs it; Parquet with fixed options; JSON Lines assembled from string columns.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from zs_risk_synth import events as E
from zs_risk_synth import inspections as I
from zs_risk_synth import inspectors as zs_risk_synth_inspectors
from zs_risk_synth import licences as zs_risk_synth_licences
from zs_risk_synth import population
from zs_risk_synth import profiles as P
from zs_risk_synth import registry as R
from zs_risk_synth._util import Calendar, Events, dates32, decimal_str, int_str, iso_dates, join, vocab_take, workdays

UNKNOWN_TOWN = "442000999"


CITY_BUREAU = "中山市市场监督管理局"


@dataclass
class World:
    """Everything generated, ready to be cut into monthly deliveries."""

    cal: Calendar
    pop: population.Population
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
    inspectors: zs_risk_synth_inspectors.Inspectors
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
            "status": vocab_take(zs_risk_synth_licences.LICENCE_STATUS, r["status"]),
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
            "reason": vocab_take(zs_risk_synth_inspectors.CONFLICT_REASONS, r["reason"]),
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
