"""Inspectors, declared conflicts, and the inspections of the synthetic city with their results.

Inspections are drawn the way the bureau did before risk tiers existed: double-random plans drawn
uniformly from their scope (≈3-5 % of entities a year, never twice a year for the same plan), special
campaigns aimed at riskier firms of a cluster, and triggered checks after complaints. Whether a problem
is found depends on the entity's hidden p_problem, so random inspections are unbiased labels.
Results are entered into the results system one to eight working days after the inspection and delivered weekly.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from zs_risk_synth import inspectors, population
from zs_risk_synth import profiles as P
from zs_risk_synth._util import (
    NEVER,
    Calendar,
    Events,
    Streams,
    concat,
    first_of_runs,
    pick_workdays,
    sort_events,
    take,
    to_workday,
    weighted_sample,
)

CODES = tuple(c for c, _, _ in P.result_codes())


BIT = {c: 1 << i for i, c in enumerate(CODES)}


TRIGGER = ("random", "triggered", "special")


RANDOM, TRIGGERED, SPECIAL = range(3)


def _plan_scopes(pop: population.Population) -> list[np.ndarray]:
    codes = np.array([i.code for i in P.industries()])
    tkeys = [t.key for t in P.towns()]
    out = []
    for plan in P.PLANS:
        if plan.licence_domain >= 0:
            scope = pop.lic_domain == plan.licence_domain
        elif plan.classes:
            scope = np.char.startswith(codes, plan.classes[0])
            for c in plan.classes[1:]:
                scope |= np.char.startswith(codes, c)
            scope = scope[pop.industry]
        else:
            scope = np.ones(pop.n, dtype=bool)
        if plan.towns:
            scope = scope & np.isin(pop.town, [tkeys.index(t) for t in plan.towns])
        out.append(scope)
    return out


def draw_inspections(
    pop: population.Population,
    cal: Calendar,
    streams: Streams,
    comp: Events,
    handed_over: Sequence[str] = (),
    go_live: int | None = None,
) -> tuple[Events, Events]:
    """The inspections, and one record per plan-month draw that selected anyone (the 抽查计划 delivery):
    its frame (enterprises it drew from) and sample size, so π = sample / frame for a random draw.

    From month index `go_live` on, the plans whose prefix is in `handed_over` are drafted by zs-risk and
    carried out by the simulated inspectorate (inspectorate.py): the city draws them only before (the cold start)."""
    scopes = _plan_scopes(pop)
    own_until = cal.months if go_live is None else go_live
    drawn_year = [np.full(pop.n, -1, dtype=np.int16) for _ in P.PLANS]
    parts = []
    draws: list[tuple[int, int, int, int]] = []  # (month, plan, frame, sample): at most plans × months
    for m in range(cal.months):
        rng = streams.rng("inspection-draws", m)
        year, month = cal.year_month(m)
        ms, me = cal.month_start(m), cal.month_end(m)
        frame = (pop.est_day < ms) & (pop.exit_day > ms)
        for p, plan in enumerate(P.PLANS):
            if (plan.months and month not in plan.months) or (m >= own_until and plan.prefix in handed_over):
                continue
            fr = np.flatnonzero(frame & scopes[p])
            if plan.kind == "random":
                per_draw = plan.annual_rate / (len(plan.months) or 12)
                k = _stochastic_round(rng, per_draw * len(fr))
                eligible = fr[drawn_year[p][fr] != year % 10000]  # not twice a year for the same plan
                sel = np.sort(rng.choice(eligible, min(k, len(eligible)), replace=False))
                drawn_year[p][sel] = year % 10000
                trigger = RANDOM
                frame_size = len(eligible)  # simple random sample of the eligible: π = len(sel) / len(eligible)
            else:
                k = _stochastic_round(rng, plan.annual_rate * len(fr))
                sel = weighted_sample(rng, fr, np.exp(0.6 * pop.zc[fr]), k)  # campaigns target risk
                trigger = SPECIAL
                frame_size = len(fr)
            if len(sel):
                draws.append((m, p, frame_size, len(sel)))
            parts.append(
                {
                    "idx": sel,
                    "day": pick_workdays(rng, ms, me, len(sel)),
                    "trigger": np.full(len(sel), trigger, np.int8),
                    "plan": np.full(len(sel), p, np.int16),
                }
            )
    parts.append(_triggered(pop, cal, streams, comp))
    ev = concat(parts)
    ev["month"] = cal.month_of(ev["day"])
    # Only triggered checks can fall outside the window: plan inspections are picked within their month,
    # so each plan-month's sample_size equals its number of inspections.
    ev = take(ev, np.flatnonzero((ev["month"] >= 0) & (ev["month"] < cal.months)))
    table = np.array(draws, dtype=np.int64).reshape(-1, 4)
    plans = {"month": table[:, 0], "plan": table[:, 1], "frame": table[:, 2], "sample": table[:, 3]}
    return sort_events(ev, "month", "day", "idx", "plan"), plans


def _stochastic_round(rng: np.random.Generator, x: float) -> int:
    return int(np.floor(x) + (rng.random() < x - np.floor(x)))


def _triggered(pop: population.Population, cal: Calendar, streams: Streams, comp: Events) -> Events:
    """A check after complaints: likelier with substantiated complaints, almost sure after a burst."""
    rng = streams.rng("triggered")
    if not len(comp["idx"]):
        return {
            "idx": np.empty(0, np.int64),
            "day": np.empty(0, np.int64),
            "trigger": np.empty(0, np.int8),
            "plan": np.empty(0, np.int16),
        }
    ev = sort_events(comp, "idx", "month", "day")
    start = np.flatnonzero(first_of_runs([ev["idx"], ev["month"]]))
    n_sub = np.add.reduceat((ev["substantiated"] == 1).astype(np.int64), start)
    n_all = np.add.reduceat(np.ones(len(ev["idx"]), np.int64), start)
    spike = np.maximum.reduceat(ev["spike"].astype(np.int64), start) > 0
    p = 1 - 0.72**n_sub * 0.95 ** (n_all - n_sub)
    p = np.where(spike, np.maximum(p, 0.9), p)
    go = rng.random(len(start)) < p
    first = start[go]
    d = to_workday(ev["day"][first] + rng.integers(3, 26, len(first)))
    keep = d < pop.exit_day[ev["idx"][first]]
    return {
        "idx": ev["idx"][first][keep],
        "day": d[keep],
        "trigger": np.full(int(keep.sum()), TRIGGERED, np.int8),
        "plan": np.full(int(keep.sum()), -1, np.int16),
    }


# Problem codes and their shares: checks of published information vs. product/food/safety checks.
_PUBLICITY_MIX = {
    "NOT_PUBLICIZED": 0.30,
    "FALSE_INFO": 0.12,
    "UNREACHABLE": 0.25,
    "FOUND_RECTIFIED": 0.18,
    "FOUND_PENDING": 0.07,
    "REFUSED_SERIOUS": 0.03,
    "OTHER_DEPT_VIOLATION": 0.05,
}


_DOMAIN_MIX = {
    "FOUND_RECTIFIED": 0.45,
    "FOUND_PENDING": 0.25,
    "OTHER_DEPT_VIOLATION": 0.10,
    "UNREACHABLE": 0.06,
    "NOT_PUBLICIZED": 0.06,
    "FALSE_INFO": 0.03,
    "REFUSED_SERIOUS": 0.05,
}


MISSING_REPORT_FOUND = 0.9  # a publicity check of a firm whose due annual report is missing finds it


def report_missing_at(
    pop: population.Population, seasons: list[tuple], idx: np.ndarray, days: np.ndarray
) -> np.ndarray:
    """Whether the entity's annual report of the latest season whose deadline has passed was still not filed
    on that day (seasons as returned by events.annual_reports, in year order)."""
    out = np.zeros(len(idx), dtype=bool)
    for k, (_, due, submit, deadline) in enumerate(seasons):
        following = seasons[k + 1][3] if k + 1 < len(seasons) else NEVER
        sel = np.flatnonzero((days > deadline) & (days <= following))
        if not len(sel):
            continue
        filed_on = np.full(pop.n, -1, dtype=np.int64)  # -1: not due that season
        filed_on[due] = submit
        out[sel] = filed_on[idx[sel]] > days[sel]
    return out


def results(
    pop: population.Population, streams: Streams, ev: Events, seasons: list[tuple]
) -> tuple[np.ndarray, np.ndarray]:
    """Bit mask of result codes per inspection (bits in the order of reference/result_codes.csv), and the true
    probability that each inspection finds a problem (ground truth, for the oracle of the model's evaluation).

    The firm's hidden risk on the day sets the probability; what the check looks at can make the outcome all but
    certain: a publicity check (公示信息抽查) of a firm whose due annual report is missing finds it unpublished.
    """
    ent = ev["idx"]
    publicity = np.array([P.PLANS[p].publicity for p in range(len(P.PLANS))] + [False])[ev["plan"]]
    return outcomes(
        streams.rng("inspection-results"),
        pop.p_problem_at(ent, ev["day"]),
        publicity,
        ev["trigger"],
        publicity & report_missing_at(pop, seasons, ent, ev["day"]),
        pop.dormant[ent],
        pop.exit_day[ent] <= ev["day"],
    )


def outcomes(
    rng: np.random.Generator,
    p_problem: np.ndarray,
    publicity: np.ndarray,
    trigger: np.ndarray,
    unpublished: np.ndarray,
    dormant: np.ndarray,
    gone: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Result codes and the true problem probability of inspections of firms with these problem probabilities:
    what a check finds is the same whoever drafted the plan (the generator's own plans or zs-risk's).

    publicity: a check of published information (公示信息); unpublished: the firm's due annual report is missing
    on the day; dormant: registered but not operating; gone: deregistered or revoked by the day."""
    n = len(p_problem)
    factor = np.select([trigger == TRIGGERED, trigger == SPECIAL, ~publicity], [2.2, 1.5, 1.1], 1.0)
    p_eff = np.minimum(p_problem * factor, 0.95)
    p_eff = np.where(unpublished, np.maximum(p_eff, MISSING_REPORT_FOUND), p_eff)
    codes = np.full(n, BIT["NO_ISSUE"], dtype=np.int16)
    u = rng.random(n)
    problem = u < p_eff
    mixes = [_PUBLICITY_MIX, _DOMAIN_MIX]
    names = list(_PUBLICITY_MIX)
    probs = np.array([[mix[c] for c in names] for mix in mixes])
    primary = np.array([BIT[c] for c in names])[
        np.minimum(
            (rng.random(n)[:, None] > np.cumsum(probs, axis=1)[np.where(publicity, 0, 1)]).sum(axis=1),
            len(names) - 1,
        )
    ]
    primary = np.where(unpublished, BIT["NOT_PUBLICIZED"], primary)
    codes = np.where(problem, primary, codes)
    alone = np.isin(codes, [BIT["UNREACHABLE"], BIT["REFUSED_SERIOUS"], BIT["NO_ISSUE"]])
    second = np.array([BIT["FOUND_RECTIFIED"], BIT["OTHER_DEPT_VIOLATION"], BIT["NOT_PUBLICIZED"]])[
        rng.integers(0, 3, n)
    ]
    codes = np.where(~alone & (rng.random(n) < 0.2), codes | second, codes)
    no_activity = ~problem & ~publicity & (rng.random(n) < 0.05)
    codes = np.where(no_activity, BIT["NO_RELEVANT_ACTIVITY"], codes)
    found_closed = np.where(rng.random(n) < population.DORMANT_UNREACHABLE, BIT["UNREACHABLE"], BIT["CLOSED_OR_EXITED"])
    codes = np.where(dormant, found_closed, codes)  # a dormant entity: nobody there, or visibly closed
    codes = np.where(gone, BIT["CLOSED_OR_EXITED"], codes)
    p_true = np.where(gone, 0.0, np.where(dormant, population.DORMANT_UNREACHABLE, p_eff))
    return codes.astype(np.int16), p_true


def assign_inspectors(
    pop: population.Population,
    cal: Calendar,
    streams: Streams,
    ev: Events,
    insp: inspectors.Inspectors,
    conflicts: Events,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Department and two distinct inspectors per inspection: certified, in post, of the responsible branch,
    qualified for the plan's domain where possible, and without a declared conflict with the firm."""
    n = len(ev["idx"])
    plan = ev["plan"]
    dept = np.where(plan >= 0, np.array([P.DEPARTMENTS.index(p.department) for p in P.PLANS] + [0])[plan], 0)
    qual_of_domain = np.array([inspectors.QUAL_BIT[d] for d in P.DOMAINS])
    plan_qual = np.array([inspectors.QUAL_BIT[p.domain] for p in P.PLANS] + [0])[plan]
    trig_qual = np.where(
        pop.lic_domain[ev["idx"]] >= 0,
        qual_of_domain[np.maximum(pop.lic_domain[ev["idx"]], 0)],
        inspectors.QUAL_BIT["general"],
    )
    qual = np.where(plan >= 0, plan_qual, trig_qual)
    branch = np.where(dept == 0, pop.town[ev["idx"]], -1)
    i1 = np.full(n, -1, dtype=np.int64)
    i2 = np.full(n, -1, dtype=np.int64)
    conflict_keys = np.unique(conflicts["insp"] * pop.n + conflicts["idx"])
    has_conflict = np.zeros(pop.n, dtype=bool)  # few firms have declared conflicts: check only those
    has_conflict[conflicts["idx"]] = True
    for m in range(cal.months):
        rng = streams.rng("assignment", m)
        rows = np.flatnonzero(ev["month"] == m)
        if not len(rows):
            continue
        ok = insp.active(m) & (insp.cert[m] >= cal.month_end(m))
        key = (dept[rows].astype(np.int64) * 100 + branch[rows] + 1) * 1024 + qual[rows]
        order = np.argsort(key, kind="stable")
        starts = np.flatnonzero(first_of_runs([key[order]]))
        for s, e in zip(starts, np.append(starts[1:], len(order)), strict=True):
            grp = rows[order[s:e]]
            d, b, q = int(dept[grp[0]]), int(branch[grp[0]]), int(qual[grp[0]])
            pool = _pool(insp, ok, d, b, q)
            if len(pool) < 2:
                continue
            a, c = _two_of(rng, len(pool), len(grp))
            i1[grp], i2[grp] = pool[a], pool[c]
            at_risk = grp[has_conflict[ev["idx"][grp]]]

            def clashing(at: np.ndarray) -> np.ndarray:
                key1 = i1[at] * pop.n + ev["idx"][at]
                key2 = i2[at] * pop.n + ev["idx"][at]
                return at[np.isin(key1, conflict_keys) | np.isin(key2, conflict_keys)]

            for _ in range(5):  # re-draw pairs that hit a declared conflict
                bad = clashing(at_risk)
                if not len(bad):
                    break
                a, c = _two_of(rng, len(pool), len(bad))
                i1[bad], i2[bad] = pool[a], pool[c]
            for r in clashing(at_risk):  # the rare pair still clashing (small pool): draw from the free inspectors
                free = pool[~np.isin(pool * pop.n + ev["idx"][r], conflict_keys)]
                if len(free) < 2:
                    i1[r] = i2[r] = -1  # no conflict-free pair: left unassigned, like an empty pool
                    continue
                a, c = _two_of(rng, len(free), 1)
                i1[r], i2[r] = free[a[0]], free[c[0]]
    return dept.astype(np.int8), i1, i2


def _pool(insp: inspectors.Inspectors, ok: np.ndarray, dept: int, branch: int, qual: int) -> np.ndarray:
    """Eligible inspectors, relaxing first the qualification, then the branch (to city level, then any)."""
    same_dept = ok & (insp.dept == dept)
    qualified = (insp.quals & qual) > 0
    for mask in (
        same_dept & (insp.branch == branch) & qualified,
        same_dept & (insp.branch == branch),
        same_dept & (insp.branch == -1) & qualified,
        same_dept & (insp.branch == -1),
        same_dept,
    ):
        pool = np.flatnonzero(mask)
        if len(pool) >= 2:
            return pool
    return np.empty(0, dtype=np.int64)


def _two_of(rng: np.random.Generator, k: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    a = rng.integers(0, k, n)
    c = (a + 1 + rng.integers(0, k - 1, n)) % k
    return a, c


__all__ = [
    "CODES",
    "TRIGGER",
    "assign_inspectors",
    "draw_inspections",
    "results",
]
