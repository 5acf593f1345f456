"""Events of the synthetic city other than registry rows and inspections.

Each function returns an event table (dict of numpy arrays) with at least `idx` (entity) and `day`.
All of them are vectorised over the population; the only Python loops run over months, report years or
small vocabularies. The latent risk (population.zc) raises every bad event; dormant entities (registered,
not operating) never report, never trade (no complaints) and end up revoked.
"""

from __future__ import annotations

import numpy as np

from zs_risk_synth import population
from zs_risk_synth import profiles as P
from zs_risk_synth._util import (
    NEVER,
    Calendar,
    Events,
    Streams,
    calibrate_shift,
    choose_by_group,
    concat,
    day,
    empty_events,
    first_of_runs,
    pick_workdays,
    sigmoid,
    sort_events,
    take,
    to_workday,
    uniform_days,
)

ONTIME_TARGET = 0.945  # annual-report publicity on time (Zhongshan 2025: 95.86 %)


HISTORY_SEASONS = 4  # report seasons simulated before the window, only to seed the lists' open listings


# Report years the first delivery carries as history, as a source system does when it is connected:
# without them every indicator read from annual reports would be unknown for the first months.
DELIVERED_HISTORY = 2


THREE_YEARS = 1095


ABNORMAL_REASONS = ("late_annual_report", "not_publicized", "false_info", "unreachable")


LATE, NOT_PUBLICIZED, FALSE_INFO, UNREACHABLE = range(4)


DISHONEST_REASONS = ("abnormal_3_years", "fraudulent_registration", *sorted(set(P.SERIOUS_REASON.values())))


IN, OUT = 0, 1


VIOLATION_FAMILIES = tuple(P.VIOLATIONS)


VIOLATION_TEXT = tuple(v for fam in VIOLATION_FAMILIES for v in P.VIOLATIONS[fam])


_VIOLATION_OFFSET = np.cumsum([0] + [len(P.VIOLATIONS[f]) for f in VIOLATION_FAMILIES])


SEVERITY = ("一般", "较重", "严重")


def _year(d: int) -> int:
    return int(np.datetime64(d, "D").astype("datetime64[Y]").astype(int) + 1970)


def annual_reports(pop: population.Population, cal: Calendar, streams: Streams) -> tuple[Events, list[tuple]]:
    """Reports for year Y filed 1 Jan-30 Jun of Y+1 (most near the deadline), some late, some never.

    Returns the report rows of the seasons that touch the window and, for every simulated season
    (including a few before the window, used only to seed the abnormal list), who was due and when
    each filed (NEVER = not at all).
    """
    first_year = _year(cal.first_day) - 1
    last_year = _year(cal.last_day) - 1
    rows: list[Events] = []
    seasons: list[tuple] = []
    is_ind = pop.etype == P.INDIVIDUAL
    t = np.arange(181)
    rush = (1 + 6 * (t / 180) ** 3) / (1 + 6 * (t / 180) ** 3).sum()  # filings pile up before 30 June
    for year in range(first_year - HISTORY_SEASONS, last_year + 1):
        season_lo, ontime_hi = day(f"{year + 1}-01-01"), day(f"{year + 1}-06-30")
        rng = streams.rng("annual-reports", year)
        due = np.flatnonzero((pop.est_day < season_lo) & (pop.exit_day > season_lo))
        zc, dormant = pop.zc[due], pop.dormant[due]
        live = ~dormant
        target = min(ONTIME_TARGET / max(live.mean(), 1e-9), 0.995)
        b = calibrate_shift(-1.3 * zc[live], target) if live.any() else 0.0
        # A firm whose risk moved before the filing season's middle files as its new risk would (late, or never).
        moved = pop.shift_at(due, season_lo + 90)
        ontime = live & (rng.random(len(due)) < sigmoid(-1.3 * (zc + moved) + b))
        late = ~ontime & (rng.random(len(due)) < np.where(dormant, 0.03, 0.5))
        submit = np.full(len(due), NEVER, dtype=np.int64)
        submit[ontime] = season_lo + rng.choice(181, int(ontime.sum()), p=rush)
        submit[late] = ontime_hi + 1 + np.minimum(rng.exponential(45, int(late.sum())), 183).astype(np.int64)
        submit[submit >= pop.exit_day[due]] = NEVER  # gone before filing
        seasons.append((year, due, submit, ontime_hi))
        if year < first_year - DELIVERED_HISTORY:
            continue
        filed = submit < NEVER
        ent, sub = due[filed], submit[filed]
        month = np.maximum(cal.month_of(sub), 0)  # filed before the window: part of the first delivery
        keep = month < cal.months
        ent, sub, month = ent[keep], sub[keep], month[keep]
        rows.append(_report_values(rng, pop, ent, sub, month, year, is_ind[ent]))
    if not rows:
        return empty_events(idx=np.int64, day=np.int64, month=np.int64), seasons
    return sort_events(concat(rows), "month", "day", "idx"), seasons


def _report_values(rng, pop, ent, sub, month, year, ind) -> Events:
    n = len(ent)
    employees = np.maximum(np.where(ind, 1, 0), np.round(pop.emp_base[ent] * rng.lognormal(0, 0.12, n)))
    insured = np.where(
        ind,
        np.where(rng.random(n) < 0.65, np.nan, np.minimum(employees, rng.poisson(0.3, n))),
        np.floor(employees * pop.ins_ratio[ent] * rng.uniform(0.9, 1.0, n)),
    )
    revenue = pop.rev_base[ent] * rng.lognormal(0, 0.15, n)
    revenue[~ind & (rng.random(n) < 0.04)] = 0.0  # no business that year
    cap = np.where(np.isfinite(pop.capital[ent]), pop.capital[ent], 0.0)
    assets = np.where(
        ind,
        np.where(rng.random(n) < 0.7, np.nan, rng.lognormal(np.log(5), 0.8, n)),
        revenue * rng.lognormal(-0.2, 0.6, n) + 0.2 * cap,
    )
    return {
        "idx": ent,
        "day": sub,
        "month": month,
        "year": np.full(n, year),
        "employees": employees,
        "insured": insured,
        "revenue": np.round(revenue, 2),
        "assets": np.round(assets, 2),
    }


def late_report_listings(pop: population.Population, cal: Calendar, streams: Streams, seasons: list[tuple]) -> Events:
    """Listed in July-September for a report still missing on 30 June; removed weeks after filing."""
    parts = []
    for year, due, submit, ontime_hi in seasons:
        rng = streams.rng("late-listing", year)
        n = len(due)
        batch = rng.random(n) < 0.75  # most listings are one decision batch in the first weeks of July
        listed_on = np.where(
            batch,
            uniform_days(rng, ontime_hi + 3, ontime_hi + 21, n),
            uniform_days(rng, ontime_hi + 22, ontime_hi + 92, n),
        )
        listed_on = to_workday(listed_on)
        listed = (submit > listed_on) & (pop.exit_day[due] > listed_on)
        ent, on, sub = due[listed], listed_on[listed], submit[listed]
        applies = (sub < NEVER) & (rng.random(len(ent)) < 0.9)
        out_on = to_workday(sub[applies] + rng.integers(5, 76, int(applies.sum())))
        parts.append(_list_events(ent, on, IN, LATE))
        parts.append(_list_events(ent[applies], out_on, OUT, LATE))
    # Unreachable dormant shells at business centres, found by inspections before the window.
    rng = streams.rng("unreachable-history")
    old = np.flatnonzero((pop.reg_month < 0) & pop.dormant & (pop.hub >= 0) & (rng.random(pop.n) < 0.5))
    on = to_workday(cal.first_day - rng.integers(30, 900, len(old)))
    ok = (on > pop.est_day[old] + 180) & (on < pop.exit_day[old])
    parts.append(_list_events(old[ok], on[ok], IN, UNREACHABLE))
    return concat(parts)


def _list_events(idx: np.ndarray, days: np.ndarray, action: int, reason: int | np.ndarray) -> Events:
    n = len(idx)
    return {
        "idx": idx.astype(np.int64),
        "day": days.astype(np.int64),
        "action": np.full(n, action, dtype=np.int8),
        "reason": np.broadcast_to(np.asarray(reason, dtype=np.int16), (n,)).copy(),
    }


def consistent_listings(ev: Events, pop: population.Population, cal: Calendar) -> Events:
    """Make in/out alternate per (entity, reason), drop what happens after exit or after the window,
    keep from before the window only listings still open at its start (the first delivery's backlog).

    Adds `next_out` (day of the removal that closes each `in`, NEVER if none) and `month` (delivery).
    """
    ev = {k: v for k, v in ev.items() if k not in ("next_out", "month")}
    # A listing may be decided on the day the registration ends (e.g. withdrawn for fraud), not after it.
    ev = take(ev, np.flatnonzero((ev["day"] <= pop.exit_day[ev["idx"]]) & (ev["day"] <= cal.last_day)))
    ev = sort_events(ev, "idx", "reason", "day", "action")
    run = first_of_runs([ev["idx"], ev["reason"], ev["action"]])
    group_start = first_of_runs([ev["idx"], ev["reason"]])
    # keep the first event of each run of equal actions, never a leading removal
    keep = run & ~(group_start & (ev["action"] == OUT))
    ev = take(ev, np.flatnonzero(keep))
    group_start = first_of_runs([ev["idx"], ev["reason"]])
    ev = take(ev, np.flatnonzero(~(group_start & (ev["action"] == OUT))))
    n = len(ev["idx"])
    next_out = np.full(n, NEVER, dtype=np.int64)
    if n > 1:
        same = (ev["idx"][1:] == ev["idx"][:-1]) & (ev["reason"][1:] == ev["reason"][:-1])
        has_next = np.append(same, False) & (ev["action"] == IN)
        next_out[has_next] = ev["day"][np.flatnonzero(has_next) + 1]
    # closing day of the listing each removal belongs to (for dropping closed pre-window pairs)
    closes = np.where(ev["action"] == IN, next_out, ev["day"])
    keep = closes >= cal.first_day
    ev["next_out"] = next_out
    ev = take(ev, np.flatnonzero(keep))
    ev["month"] = np.maximum(cal.month_of(ev["day"]), 0)
    return sort_events(ev, "month", "day", "idx", "action")


def complaints(pop: population.Population, cal: Calendar, streams: Streams) -> Events:
    """12315/12345 complaints: a steady trickle by industry and risk, plus bursts at risky firms."""
    inds = P.industries()
    crate = np.array([i.complaint_rate for i in inds])[pop.industry]
    size = np.where(pop.etype == P.INDIVIDUAL, 1.0, 1.4)
    intensity = crate * size * np.exp(0.9 * pop.zc)
    base_pool = (pop.reg_month < 0) & ~pop.dormant
    lam = intensity * (0.005 / intensity[base_pool].mean())
    spike_p = crate * np.exp(1.5 * pop.zc)
    spike_p *= 0.0001 / spike_p[base_pool].mean()
    profiles = list(P.COMPLAINT_PROFILES)
    prof = np.array([profiles.index(i.complaints) for i in inds])[pop.industry]
    probs = np.array([P.COMPLAINT_PROFILES[p] for p in profiles])
    top_category = probs.argmax(axis=1)
    parts = []
    for m in range(cal.months):
        rng = streams.rng("complaints", m)
        lo, hi = cal.month_start(m), cal.month_end(m)
        act = np.flatnonzero((pop.est_day <= hi) & (pop.exit_day > lo) & ~pop.dormant)
        moved = pop.shift_at(act, hi)  # a firm whose risk moved draws complaints at its new risk
        k = rng.poisson(lam[act] * np.exp(0.9 * moved))
        ent = np.repeat(act, k)
        d = uniform_days(rng, np.maximum(lo, pop.est_day[ent]), np.minimum(hi, pop.exit_day[ent] - 1))
        cat = choose_by_group(rng, prof[ent], probs)
        spiking = act[rng.random(len(act)) < spike_p[act] * np.exp(1.5 * moved)]
        burst = 4 + rng.poisson(8, len(spiking))
        s_ent = np.repeat(spiking, burst)
        s0 = np.repeat(uniform_days(rng, lo, hi, len(spiking)), burst)
        s_day = s0 + np.minimum(rng.exponential(3.0, len(s_ent)), 20).astype(np.int64)
        s_cat = top_category[prof[s_ent]]
        ent = np.concatenate([ent, s_ent])
        n = len(ent)
        parts.append(
            {
                "idx": ent,
                "day": np.concatenate([d, s_day]),
                "category": np.concatenate([cat, s_cat]),
                "spike": np.concatenate([np.zeros(len(d), bool), np.ones(len(s_ent), bool)]),
                "channel": rng.choice(len(P.CHANNELS), n, p=P.CHANNEL_SHARE),
                "substantiated": np.where(
                    rng.random(n) < 0.03,
                    -1,
                    (rng.random(n) < sigmoid(-0.7 + pop.zc[ent] + pop.shift_at(ent, hi))).astype(np.int8),
                ).astype(np.int8),
            }
        )
    ev = concat(parts)
    ev = take(ev, np.flatnonzero((ev["day"] < pop.exit_day[ev["idx"]]) & (ev["day"] <= cal.last_day)))
    ev["month"] = cal.month_of(ev["day"])
    return sort_events(ev, "month", "day", "idx")


def penalties(pop: population.Population, cal: Calendar, streams: Streams, triggers: Events) -> Events:
    """Penalty decisions: a base hazard by risk, plus those following inspection findings and complaints.

    `triggers` holds (idx, day, boost) of decisions caused elsewhere; boost raises the severity.
    """
    rng = streams.rng("penalties")
    inds = P.industries()
    food_or_drug = np.isin(pop.lic_domain, [P.FOOD, P.DRUG, P.MEDICAL_DEVICE])
    hazard = np.exp(1.0 * pop.zc) * np.where(food_or_drug, 1.5, 1.0)
    base_pool = (pop.reg_month < 0) & ~pop.dormant
    hazard *= 0.00025 / hazard[base_pool].mean()
    parts = [triggers]
    for m in range(cal.months):
        r = streams.rng("penalties", m)
        lo, hi = cal.month_start(m), cal.month_end(m)
        act = np.flatnonzero((pop.est_day < lo) & (pop.exit_day > hi) & ~pop.dormant)
        ent = np.repeat(act, r.poisson(hazard[act] * np.exp(1.0 * pop.shift_at(act, hi))))  # at its risk then
        parts.append({"idx": ent, "day": pick_workdays(r, lo, hi, len(ent)), "boost": np.zeros(len(ent))})
    ev = concat(parts)
    ev = take(
        ev,
        np.flatnonzero(
            (ev["day"] < pop.exit_day[ev["idx"]]) & (ev["day"] >= cal.first_day) & (ev["day"] <= cal.last_day)
        ),
    )
    ev = sort_events(ev, "day", "idx")
    n = len(ev["idx"])
    ent = ev["idx"]
    section = np.array([i.section for i in inds])[pop.industry[ent]]
    dom = pop.lic_domain[ent]
    own = np.select(
        [
            dom == P.FOOD,
            np.isin(dom, [P.DRUG, P.MEDICAL_DEVICE]),
            dom == P.COSMETICS,
            dom == P.SPECIAL_EQUIPMENT,
            np.isin(section, ["C", "F"]),
        ],
        [VIOLATION_FAMILIES.index(f) for f in ("food", "drug", "cosmetics", "special_equipment", "product")],
        VIOLATION_FAMILIES.index("general"),
    )
    family = np.where(rng.random(n) < 0.6, own, VIOLATION_FAMILIES.index("general"))
    sizes = np.diff(_VIOLATION_OFFSET)
    violation = _VIOLATION_OFFSET[family] + rng.integers(0, 1 << 30, n) % sizes[family]
    s = pop.zc[ent] + rng.normal(0, 1, n) + ev["boost"]
    severity = np.select([s > 2.6, s > 1.2], [2, 1], 0).astype(np.int8)
    median = np.array([5000.0, 50000.0, 300000.0])[severity]
    amount = np.maximum(200, np.round(rng.lognormal(np.log(median), 0.85) / 100) * 100)
    amount[(severity == 0) & (rng.random(n) < 0.06)] = np.nan  # a warning (警告) carries no amount
    return {
        "idx": ent,
        "day": ev["day"],
        "month": cal.month_of(ev["day"]),
        "family": family.astype(np.int16),
        "violation": violation.astype(np.int16),
        "severity": severity,
        "amount": amount,
    }


def case_numbers(cal: Calendar, pen: Events, per_year: float) -> np.ndarray:
    """(year, N) of 中市监罚〔YYYY〕N号: sequential within each year in decision order; the first year of
    the window continues the count of the decisions taken before the window started."""
    yr = pen["day"].astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970
    order = np.lexsort((pen["idx"], pen["day"]))
    sorted_years = yr[order]
    starts = first_of_runs([sorted_years]) if len(order) else np.zeros(0, bool)
    run_start = np.maximum.accumulate(np.where(starts, np.arange(len(order)), 0)) if len(order) else starts
    seq = np.empty(len(order), dtype=np.int64)
    seq[order] = np.arange(len(order)) - run_start + 1
    first_year = _year(cal.first_day)
    seq[yr == first_year] += round(per_year * (cal.first_day - day(f"{first_year}-01-01")) / 365)
    return np.stack([yr, seq], axis=1)


def dishonest(
    pop: population.Population, cal: Calendar, streams: Streams, abnormal: Events, pen: Events, fraud: Events
) -> Events:
    """Listings after 3 years on the abnormal list, after serious penalties and for fraudulent registration;
    removals after at least a year (credit repair) or when the 3-year period ends."""
    rng = streams.rng("dishonest")
    reason_idx = {r: i for i, r in enumerate(DISHONEST_REASONS)}
    ins = abnormal["action"] == IN
    ent = abnormal["idx"][ins]
    on = abnormal["day"][ins]
    open_3y = (abnormal["next_out"][ins] > on + THREE_YEARS) & (pop.etype[ent] != P.INDIVIDUAL)
    ent, on = ent[open_3y], on[open_3y]
    moved = to_workday(on + THREE_YEARS + rng.integers(5, 61, len(ent)))
    parts = [_list_events(ent, moved, IN, reason_idx["abnormal_3_years"])]
    serious = np.flatnonzero((pen["severity"] == 2) & (rng.random(len(pen["idx"])) < 0.35))
    fam = np.array([P.SERIOUS_REASON[f] for f in VIOLATION_FAMILIES])[pen["family"][serious]]
    reasons = np.array([reason_idx[r] for r in fam], dtype=np.int16) if len(fam) else np.empty(0, np.int16)
    parts.append(
        _list_events(
            pen["idx"][serious],
            to_workday(pen["day"][serious] + rng.integers(20, 91, len(serious))),
            IN,
            reasons,
        )
    )
    parts.append(_list_events(fraud["idx"], fraud["day"], IN, reason_idx["fraudulent_registration"]))
    ins_ev = concat(parts)
    n = len(ins_ev["idx"])
    repair = ~pop.dormant[ins_ev["idx"]] & (rng.random(n) < 0.3)
    out_day = np.where(
        repair,
        ins_ev["day"] + rng.integers(365, 1000, n),
        ins_ev["day"] + THREE_YEARS + rng.integers(0, 21, n),
    )
    has_out = ins_ev["reason"] != reason_idx["fraudulent_registration"]
    outs = _list_events(ins_ev["idx"][has_out], to_workday(out_day[has_out]), OUT, ins_ev["reason"][has_out])
    return consistent_listings(concat([ins_ev, outs]), pop, cal)
