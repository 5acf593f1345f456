"""What inspections lead to in the synthetic city (检查后果): withdrawals, and when results are recorded
and delivered.
"""

from __future__ import annotations

import numpy as np

from zs_risk_pipeline.lib.core import workdays as statutory
from zs_risk_synth import events, inspections, population
from zs_risk_synth import profiles as P
from zs_risk_synth._util import (
    Calendar,
    Events,
    Streams,
    concat,
    first_of_runs,
    sort_events,
    take,
    to_workday,
    uniform_days,
    weekday,
)


def consequences(
    pop: population.Population, cal: Calendar, streams: Streams, ev: Events, codes: np.ndarray, comp: Events
) -> tuple[Events, Events, Events]:
    """Abnormal-list entries after UNREACHABLE / NOT_PUBLICIZED / FALSE_INFO, penalty decisions after
    findings and substantiated complaints, and withdrawn registrations (撤销) of shells found unreachable."""
    rng = streams.rng("consequences")
    ent, d = ev["idx"], ev["day"]
    n = len(ent)
    live = ~pop.dormant[ent]
    parts = []
    for bit, reason, p_in, lag, p_out, out_lag in (
        (inspections.BIT["UNREACHABLE"], events.UNREACHABLE, 0.95, (5, 15), 0.45, (30, 200)),
        (inspections.BIT["NOT_PUBLICIZED"], events.NOT_PUBLICIZED, 0.4, (25, 50), 0.85, (7, 90)),
        (inspections.BIT["FALSE_INFO"], events.FALSE_INFO, 0.85, (5, 20), 0.6, (15, 150)),
    ):
        hit = np.flatnonzero(((codes & bit) > 0) & (rng.random(n) < p_in))
        on = to_workday(d[hit] + rng.integers(lag[0], lag[1] + 1, len(hit)))
        parts.append(events._list_events(ent[hit], on, events.IN, reason))
        fix = live[hit] & (rng.random(len(hit)) < p_out)
        off = to_workday(on[fix] + rng.integers(out_lag[0], out_lag[1] + 1, int(fix.sum())))
        parts.append(events._list_events(ent[hit][fix], off, events.OUT, reason))
    abnormal = concat(parts)

    pen_p = np.zeros(n)
    boost = np.zeros(n)
    for code, p, b in (
        ("FOUND_PENDING", 0.6, 0.5),
        ("REFUSED_SERIOUS", 0.5, 0.8),
        ("FALSE_INFO", 0.15, 0.3),
        ("FOUND_RECTIFIED", 0.08, 0.0),
    ):
        has = (codes & inspections.BIT[code]) > 0
        pen_p = np.where(has, np.maximum(pen_p, p), pen_p)
        boost = np.where(has, np.maximum(boost, b), boost)
    go = np.flatnonzero(rng.random(n) < pen_p)
    sub = np.flatnonzero((comp["substantiated"] == 1) & (rng.random(len(comp["idx"])) < 0.03))
    triggers = {
        "idx": np.concatenate([ent[go], comp["idx"][sub]]),
        "day": to_workday(
            np.concatenate([d[go] + rng.integers(20, 121, len(go)), comp["day"][sub] + rng.integers(20, 121, len(sub))])
        ),
        "boost": np.concatenate([boost[go], np.zeros(len(sub))]),
    }

    shell = pop.dormant[ent] & ((pop.hub[ent] >= 0) | pop.serial[ent]) & ((codes & inspections.BIT["UNREACHABLE"]) > 0)
    fr = np.flatnonzero(shell & (rng.random(n) < 0.1))
    fraud = {"idx": ent[fr], "day": to_workday(d[fr] + uniform_days(rng, 30, 120, len(fr)))}
    fraud = take(fraud, np.flatnonzero(fraud["day"] < pop.exit_day[fraud["idx"]]))
    fraud = sort_events(fraud, "idx", "day")
    fraud = take(fraud, np.flatnonzero(first_of_runs([fraud["idx"]]))) if len(fraud["idx"]) else fraud
    return abnormal, triggers, fraud


def withdraw_registrations(pop: population.Population, cal: Calendar, fraud: Events) -> None:
    """Fraudulent registrations are withdrawn (撤销) on the day of the decision: the entity leaves the
    register."""
    inside = fraud["day"] <= cal.last_day
    idx, d = fraud["idx"][inside], fraud["day"][inside]
    earlier = d < pop.exit_day[idx]
    pop.exit_day[idx[earlier]] = d[earlier]
    pop.exit_status[idx[earlier]] = P.WITHDRAWN


# Working days from an inspection to the entry of its result in the results system, i.e. its delivery.
RECORDED_AFTER = (1, 8)


def recorded_days(streams: Streams, ev: Events) -> np.ndarray:
    """The day each result is entered into the results system (录入日期): the n-th working day after the
    inspection, n uniform on RECORDED_AFTER, on the statutory calendar. The package's schedule only, not the
    operator's config: the same arguments must give the same city wherever it is generated."""
    days = np.asarray(ev["day"], dtype=np.int64)
    if not len(days):
        return days.copy()
    n = streams.rng("results-recorded").integers(RECORDED_AFTER[0], RECORDED_AFTER[1] + 1, len(days))
    return workdays_after(days, n)


def workdays_after(days: np.ndarray, n: np.ndarray) -> np.ndarray:
    """The n-th working day after each day, on the statutory calendar."""
    days = np.asarray(days, dtype=np.int64)
    if not len(days):
        return days.copy()
    first = np.datetime64(int(days.min()) + 1, "D")
    # n working days take at most about 1.5 n + 10 calendar days (Spring Festival, National Day week).
    span = int(np.max(n)) * 2 + 30
    work = statutory.Calendar().workdays(first, np.datetime64(int(days.max()) + span, "D")).astype(np.int64)
    return work[np.searchsorted(work, days, side="right") + np.asarray(n) - 1]


def delivery_days(recorded: np.ndarray) -> np.ndarray:
    """The date of the weekly file that delivers each result: the last working day of the week (Monday to
    Sunday) it was recorded in, but never past the end of that month, so a file stays in its month's folder."""
    rec = np.asarray(recorded, dtype=np.int64)
    if not len(rec):
        return rec.copy()
    sunday = rec - weekday(rec) + 6
    month_end = ((rec.astype("datetime64[D]").astype("datetime64[M]") + 1).astype("datetime64[D]") - 1).astype(np.int64)
    cap = np.minimum(sunday, month_end)
    work = (
        statutory.Calendar()
        .workdays(np.datetime64(int(rec.min()), "D"), np.datetime64(int(cap.max()), "D"))
        .astype(np.int64)
    )
    # The result's own day is a working day of that week and month, so the file date is never before it.
    return work[np.searchsorted(work, cap, side="right") - 1]
