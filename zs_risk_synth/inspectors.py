"""Inspectors of the synthetic city (执法人员) and the conflicts they declare (回避申报)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from zs_risk_synth import population
from zs_risk_synth import profiles as P
from zs_risk_synth._util import (
    NEVER,
    Calendar,
    Events,
    Streams,
    concat,
    empty_events,
    first_of_runs,
    pick_workdays,
    sort_events,
    take,
    to_workday,
)

QUAL_BIT = {q: 1 << i for i, q in enumerate(P.QUALIFICATIONS)}


CONFLICT_REASONS = (
    "近亲属在该企业任职",
    "曾在该企业任职",
    "持有该企业股份",
    "与该企业法定代表人有其他利害关系",
)


@dataclass
class Inspectors:
    ids: np.ndarray
    dept: np.ndarray  # index into profiles.DEPARTMENTS
    branch: np.ndarray  # town index, -1 = city level
    quals: np.ndarray  # bit mask over profiles.QUALIFICATIONS
    hired: np.ndarray  # month index (-1 = before the window)
    left: np.ndarray  # first month no longer in post (months = still in post)
    cert: np.ndarray  # months × inspectors: certificate valid until, as known in that month

    def on_list(self, m: int) -> np.ndarray:
        return np.flatnonzero(self.hired <= m)

    def active(self, m: int) -> np.ndarray:
        return (self.hired <= m) & (self.left > m)


def _new_staff(rng: np.random.Generator, k: int, town_share: np.ndarray) -> tuple[np.ndarray, ...]:
    dept = rng.choice(len(P.DEPARTMENTS), k, p=P.DEPARTMENT_SHARE)
    scjgj = dept == 0
    branch = np.where(scjgj & (rng.random(k) >= 0.12), rng.choice(len(town_share), k, p=town_share), -1)
    quals = np.full(k, QUAL_BIT["general"])
    extra = {
        "food": 0.75,
        "industrial_product": 0.35,
        "special_equipment": 0.2,
        "drug": 0.15,
        "medical_device": 0.1,
        "cosmetics": 0.08,
    }
    for q, p in extra.items():
        quals |= np.where(scjgj & (rng.random(k) < p), QUAL_BIT[q], 0)
    quals |= np.where(~scjgj & (rng.random(k) < 0.5), QUAL_BIT["other"], 0)
    return dept.astype(np.int8), branch.astype(np.int16), quals.astype(np.int16)


def build_inspectors(pop: population.Population, cal: Calendar, streams: Streams) -> Inspectors:
    """About one inspector per 1,000 entities (at least 60), mostly market regulation staff of the town
    branches, some city-level and joint-inspection member units; staff leave, are hired and renew their
    certificates."""
    rng = streams.rng("inspectors")
    initial = pop.reg_month < 0
    town_share = np.bincount(pop.town[initial], minlength=len(P.towns())).astype(float)
    town_share /= town_share.sum()
    n0 = max(60, round(pop.n0 / 1000))
    # Every town branch gets at least two market-regulation inspectors, every other member unit two
    # at city level.
    base_branch = np.concatenate([np.repeat(np.arange(len(town_share)), 2), np.full(2 * (len(P.DEPARTMENTS) - 1), -1)])
    base_dept = np.concatenate([np.zeros(2 * len(town_share)), np.repeat(np.arange(1, len(P.DEPARTMENTS)), 2)])
    k = max(n0 - len(base_branch), 0)
    dept, branch, quals = _new_staff(rng, k, town_share)
    dept = np.concatenate([base_dept.astype(np.int8), dept])
    branch = np.concatenate([base_branch.astype(np.int16), branch])
    base_quals = np.where(base_dept == 0, QUAL_BIT["general"] | QUAL_BIT["food"], QUAL_BIT["general"])
    quals = np.concatenate([base_quals.astype(np.int16), quals])
    n = len(dept)
    hired = np.full(n, -1, dtype=np.int32)
    left = np.full(n, cal.months, dtype=np.int32)
    cert = cal.first_day + rng.integers(-60, 5 * 365, n)
    certs = []
    for m in range(cal.months):
        r = streams.rng("inspectors", m)
        ms, me = cal.month_start(m), cal.month_end(m)
        active = (hired <= m) & (left > m)
        leaving = active & (r.random(len(dept)) < 0.003)
        left[leaving] = m
        renew = active & (cert >= ms) & (cert <= me) & (r.random(len(dept)) < 0.85)
        cert[renew] += 1826
        target = round(n0 * 1.07 ** (m / 12))
        k = max(0, target - int(((hired <= m) & (left > m)).sum()))
        if k:
            d, b, q = _new_staff(r, k, town_share)
            dept, branch, quals = (
                np.concatenate([dept, d]),
                np.concatenate([branch, b]),
                np.concatenate([quals, q]),
            )
            hired = np.concatenate([hired, np.full(k, m, np.int32)])
            left = np.concatenate([left, np.full(k, cal.months, np.int32)])
            cert = np.concatenate([cert, ms + r.integers(1000, 1826, k)])
        certs.append(cert.copy())
    cert_2d = np.full((cal.months, len(dept)), NEVER, dtype=np.int64)
    for m, c in enumerate(certs):
        cert_2d[m, : len(c)] = c
    # IDs numbered per member unit in order of appointment (a few hundred rows: a plain loop is fine).
    counters: dict[int, int] = {}
    ids = []
    for d in dept:
        counters[int(d)] = counters.get(int(d), 0) + 1
        ids.append(f"{P.DEPARTMENTS[d]}{counters[int(d)]:04d}")
    return Inspectors(np.array(ids), dept, branch, quals, hired, left, cert_2d)


def build_conflicts(pop: population.Population, cal: Calendar, streams: Streams, insp: Inspectors) -> Events:
    """Declared conflicts of interest: a backlog in the first delivery, then a few each month."""
    parts = []
    for m in range(cal.months):
        rng = streams.rng("conflicts", m)
        ms, me = cal.month_start(m), cal.month_end(m)
        staff = np.flatnonzero(insp.active(m))
        k = max(20, round(0.45 * len(staff))) if m == 0 else int(rng.poisson(0.015 * len(staff)))
        if not k or not len(staff):
            continue
        who = staff[rng.integers(0, len(staff), k)]
        act = np.flatnonzero((pop.est_day < ms) & (pop.exit_day > me))
        by_town = act[np.argsort(pop.town[act], kind="stable")]
        bounds = np.searchsorted(pop.town[by_town], np.arange(len(P.towns()) + 1))
        town = insp.branch[who].astype(np.int64)
        local = (town >= 0) & (rng.random(k) < 0.8)
        lo = np.where(local, bounds[np.maximum(town, 0)], 0)
        hi = np.where(local, bounds[np.maximum(town, 0) + 1], len(by_town))
        ok = hi > lo
        pos = lo + np.floor(rng.random(k) * (hi - lo)).astype(np.int64)
        ent = by_town[np.minimum(pos, len(by_town) - 1)]
        days = cal.first_day - rng.integers(10, 700, k) if m == 0 else pick_workdays(rng, ms, me, k)
        parts.append(
            {
                "insp": who[ok],
                "idx": ent[ok],
                "day": to_workday(days[ok]) if m == 0 else days[ok],
                "reason": rng.choice(len(CONFLICT_REASONS), k, p=[0.35, 0.3, 0.15, 0.2])[ok],
            }
        )
    if not parts:
        return empty_events(insp=np.int64, idx=np.int64, day=np.int64, reason=np.int64, month=np.int64)
    ev = sort_events(concat(parts), "insp", "idx", "day")
    ev = take(ev, np.flatnonzero(first_of_runs([ev["insp"], ev["idx"]])))  # a pair is declared once
    ev["month"] = np.maximum(cal.month_of(ev["day"]), 0)
    return sort_events(ev, "month", "day", "insp")
