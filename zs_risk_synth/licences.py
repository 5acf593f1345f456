"""Licences of the synthetic city (许可证): issued, renewed, expired and revoked, by domain."""

from __future__ import annotations

import numpy as np

from zs_risk_synth import events, population
from zs_risk_synth import profiles as P
from zs_risk_synth._util import (
    NEVER,
    Calendar,
    Events,
    Streams,
    concat,
    first_of_runs,
    sigmoid,
    sort_events,
    take,
    to_workday,
)

VALIDITY = {
    P.FOOD: 5,
    P.DRUG: 5,
    P.INDUSTRIAL_PRODUCT: 5,
    P.COSMETICS: 5,
    P.OTHER: 3,
}  # years; others open-ended


LICENCE_STATUS = ("有效", "注销", "吊销")


def _valid_until(issued: np.ndarray, years: np.ndarray) -> np.ndarray:
    """The day before the same date `years` later: issued 2023-03-05 for 5 years, valid until 2028-03-04."""
    d = issued.astype("datetime64[D]")
    month = d.astype("datetime64[M]")
    later = (month + (12 * years).astype("timedelta64[M]")).astype("datetime64[D]") + (d - month)
    return np.where(years > 0, later.astype(np.int64) - 1, NEVER)


def licences(pop: population.Population, cal: Calendar, streams: Streams, pen: Events) -> Events:
    """Licence versions as delivered: the valid stock in the first delivery, new and renewed licences,
    cancellations when the holder exits, revocations after serious food/drug penalties.

    Rows: idx, lic (licence serial), issued, expires, status, day (event day), month.
    """
    rng = streams.rng("licences")
    holders = np.flatnonzero((pop.lic_domain >= 0) & (pop.exit_day > cal.first_day))
    dom = pop.lic_domain[holders]
    validity = np.array([VALIDITY.get(d, 0) for d in range(len(P.DOMAINS))])[dom]  # years
    n = len(holders)
    est = pop.est_day[holders]
    first_issue = est + rng.integers(7, 61, n)
    # The version valid at the start was issued within one validity period (5 years if open-ended).
    issued = np.maximum(first_issue, cal.first_day - rng.integers(1, np.where(validity > 0, 365 * validity, 1826)))
    # Some holders let the licence lapse and keep trading (a risk signal): expired before the window.
    lapsed = (validity > 0) & ~pop.dormant[holders] & (rng.random(n) < sigmoid(pop.zc[holders] - 2.8))
    old_issue = cal.first_day - rng.integers(365 * validity + 2, 365 * validity + 400, n)
    lapsed &= old_issue > first_issue
    issued = to_workday(np.where(lapsed, old_issue, issued))
    expires = _valid_until(issued, validity)
    renew_p = np.where(pop.dormant[holders] | lapsed, 0.0, 0.88 * (1 - pop.latent[holders]))
    versions = [(np.arange(n), issued, expires)]
    lic, cur_exp = np.arange(n), expires
    while True:  # renewal rounds until nothing expires inside the window
        due = (cur_exp <= cal.last_day) & (rng.random(len(lic)) < renew_p[lic])
        if not due.any():
            break
        lic = lic[due]
        r_day = to_workday(cur_exp[due] - rng.integers(0, 46, len(lic)))
        r_exp = _valid_until(r_day, validity[lic])
        versions.append((lic, r_day, r_exp))
        cur_exp = r_exp
    v_lic = np.concatenate([v[0] for v in versions])
    v_issue = np.concatenate([v[1] for v in versions])
    v_exp = np.concatenate([v[2] for v in versions])
    ent = holders[v_lic]
    ok = v_issue < pop.exit_day[ent]
    v_lic, v_issue, v_exp, ent = v_lic[ok], v_issue[ok], v_exp[ok], ent[ok]
    rows = {
        "idx": ent,
        "lic": v_lic,
        "issued": v_issue,
        "expires": v_exp,
        "status": np.zeros(len(ent), dtype=np.int8),
        "day": v_issue,
    }

    # Revocations after serious food/drug penalties.
    pos_of = np.full(pop.n, -1, dtype=np.int64)
    pos_of[holders] = np.arange(n)
    pick = (pen["severity"] == 2) & np.isin(
        pen["family"], [events.VIOLATION_FAMILIES.index("food"), events.VIOLATION_FAMILIES.index("drug")]
    )
    pick &= (pos_of[pen["idx"]] >= 0) & (rng.random(len(pen["idx"])) < 0.4)
    rev = {
        "idx": pen["idx"][pick],
        "lic": pos_of[pen["idx"][pick]],
        "day": pen["day"][pick],
        "status": np.full(int(pick.sum()), 2, dtype=np.int8),
    }
    # Cancellations when the holder leaves the register.
    gone = (pop.exit_day[holders] >= cal.first_day) & (pop.exit_day[holders] <= cal.last_day)
    st = np.where(np.isin(pop.exit_status[holders[gone]], [P.REVOKED, P.WITHDRAWN]), 2, 1).astype(np.int8)
    can = {
        "idx": holders[gone],
        "lic": np.flatnonzero(gone),
        "day": pop.exit_day[holders[gone]],
        "status": st,
    }
    ends = concat([rev, can])
    ends = sort_events(ends, "lic", "day")
    ends = take(ends, np.flatnonzero(first_of_runs([ends["lic"]])))  # the first end of each licence counts
    end_day = np.full(n, NEVER, dtype=np.int64)
    end_day[ends["lic"]] = ends["day"]
    rows = take(rows, np.flatnonzero(rows["issued"] < end_day[rows["lic"]]))
    # The end row repeats the version current on that day.
    cur = sort_events(rows, "lic", "issued")
    last_before = (
        np.searchsorted(cur["lic"] * (NEVER * 4) + cur["issued"], ends["lic"] * (NEVER * 4) + ends["day"], side="right")
        - 1
    )
    valid = (last_before >= 0) & (cur["lic"][np.maximum(last_before, 0)] == ends["lic"])
    ends = take(ends, np.flatnonzero(valid))
    last_before = last_before[valid]
    ends["issued"] = cur["issued"][last_before]
    ends["expires"] = cur["expires"][last_before]
    allrows = concat([rows, {k: ends[k] for k in rows}])

    # Delivery: versions issued before the window only if still the current one at its start.
    allrows["month"] = cal.month_of(allrows["day"])
    allrows = sort_events(allrows, "lic", "day", "status")
    pre = allrows["month"] < 0
    nxt = np.append(allrows["lic"][1:] == allrows["lic"][:-1], False)
    superseded = pre & nxt & np.append(allrows["month"][1:] < 0, False)
    allrows = take(allrows, np.flatnonzero(~superseded & (allrows["month"] < cal.months)))
    allrows["month"] = np.maximum(allrows["month"], 0)
    # One row per licence per delivery: the latest.
    allrows = sort_events(allrows, "month", "lic", "day", "status")
    last = np.append(
        ~((allrows["month"][1:] == allrows["month"][:-1]) & (allrows["lic"][1:] == allrows["lic"][:-1])), True
    )
    allrows = take(allrows, np.flatnonzero(last))
    allrows["domain"] = pop.lic_domain[allrows["idx"]].astype(np.int8)
    return sort_events(allrows, "month", "day", "lic")
