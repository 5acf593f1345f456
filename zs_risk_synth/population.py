"""The market entities of the synthetic city: who they are, where, since when, until when, how risky.

Every entity that ever exists in the window is drawn up front (the first snapshot plus every later
registration), so that codes are unique in one draw and every later stage can look up any entity.
A hidden latent risk per entity drives every bad event in events.py and inspections.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from zs_risk_pipeline.lib.ingest import uscc as uscc_lib
from zs_risk_synth import attributes, vocab
from zs_risk_synth import profiles as P
from zs_risk_synth._util import (
    NEVER,
    Calendar,
    Streams,
    calibrate_shift,
    choose_by_group,
    day,
    pick_workdays,
    sigmoid,
    to_workday,
)

ANNUAL_GROWTH = 0.07  # net growth of the entity stock (Zhongshan 2024: +6.92 %; 2025: +7.22 %)


MONTHLY_EXIT = 0.0075  # mean monthly exit hazard of active entities (~9 % a year)


PRE_EXITED = 0.025  # share of the first snapshot already deregistered or revoked


DORMANT_INITIAL = 0.045  # registered but not operating (僵尸企业): never report, unreachable


DORMANT_NEW = 0.015


MEAN_LATENT_RISK = 0.12


MEAN_P_PROBLEM = 0.10  # problem rate of a random inspection of an operating entity


DORMANT_UNREACHABLE = 0.75  # a dormant entity is found unreachable (a problem), else closed (not one)


# The world's risk moves (风险变化): each year some operating firms deteriorate (a new owner cutting corners, a
# failing business) and some improve, at a hidden day. From then on their inspections, complaints, penalties and
# annual-report filing follow the shifted risk, so how early zs-risk notices can be measured (time to detection).
DETERIORATE_PER_YEAR = 0.04
DETERIORATE_SHIFT = 2.0  # on the logit scale of zc: a median firm's problem rate goes from ~0.08 to ~0.35


IMPROVE_PER_YEAR = 0.02
IMPROVE_SHIFT = -1.0


# Registrations by calendar month (Spring Festival dip in February, catch-up in March).
SEASON = np.array([1.0, 0.6, 1.25, 1.05, 1.0, 1.05, 1.05, 1.0, 1.0, 0.85, 1.05, 1.1])


SEASON = SEASON / SEASON.mean()


USCC_REFORM = day("2015-10-01")  # entities older than this kept their organisation code inside the USCC


@dataclass
class Population:
    n0: int  # entities in the first snapshot (indices 0 … n0-1)
    etype: np.ndarray
    town: np.ndarray
    industry: np.ndarray
    est_day: np.ndarray
    reg_month: np.ndarray  # -1: in the first snapshot; m: registered in month m
    exit_day: np.ndarray  # NEVER while registered
    exit_status: np.ndarray  # index into profiles.STATUS (0 while registered)
    z: np.ndarray  # latent risk on the logit scale
    zc: np.ndarray  # z centred on its mean: the scale every effect below is written in
    latent: np.ndarray  # sigmoid(z), written to ground truth
    p_problem: np.ndarray  # probability that a random inspection finds a problem (ground truth)
    dormant: np.ndarray
    hub: np.ndarray  # business-centre index or -1
    person: np.ndarray  # legal representative (index into person_ids)
    serial: np.ndarray  # the representative leads 3 or more entities
    capital: np.ndarray  # 万元, NaN = not recorded
    uscc: np.ndarray
    lic_domain: np.ndarray  # licence domain index or -1
    emp_base: np.ndarray
    rev_base: np.ndarray
    ins_ratio: np.ndarray
    brand: np.ndarray  # name parts (see registry.py)
    nick: np.ndarray
    word: np.ndarray
    name_style: np.ndarray
    road: np.ndarray  # address parts
    num: np.ndarray
    extra_kind: np.ndarray
    extra_a: np.ndarray
    extra_b: np.ndarray
    person_ids: np.ndarray  # the first spare_person_from are in use at registration; the rest are spares
    spare_person_from: int
    town_roads: np.ndarray  # towns × roads-per-town road indices
    hub_town: np.ndarray
    hub_address: np.ndarray
    turn_day: np.ndarray  # the hidden day the firm's risk moved (NEVER: it did not move in the window)
    turn_shift: np.ndarray  # the move on the logit scale of zc (0 where none)
    p_after: np.ndarray  # p_problem from turn_day on

    @property
    def n(self) -> int:
        return len(self.etype)

    def p_problem_at(self, idx: np.ndarray, days: np.ndarray) -> np.ndarray:
        """The probability that an inspection of these entities on these days finds a problem."""
        return problem_at(self.p_problem, self.p_after, self.turn_day, idx, days)

    def shift_at(self, idx: np.ndarray, day: int) -> np.ndarray:
        """The move of these entities' risk (logit scale of zc) in force on `day`."""
        return np.where(self.turn_day[idx] <= day, self.turn_shift[idx], 0.0)


def problem_at(
    p_problem: np.ndarray, p_after: np.ndarray, turn_day: np.ndarray, idx: np.ndarray, days: np.ndarray
) -> np.ndarray:
    return np.where(turn_day[idx] <= days, p_after[idx], p_problem[idx])


def risk_turns(
    streams: Streams, cal: Calendar, zc: np.ndarray, c_p: float, dormant: np.ndarray, exit_day: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Who deteriorates or improves, on which hidden day of the window, and the problem probability afterwards.
    A stream of its own: the rest of the city is drawn as before."""
    rng = streams.rng("risk-turns")
    n = len(zc)
    years = cal.months / 12
    u = rng.random(n)
    worse = u < DETERIORATE_PER_YEAR * years
    better = ~worse & (u < (DETERIORATE_PER_YEAR + IMPROVE_PER_YEAR) * years)
    days = rng.integers(cal.first_day, cal.last_day + 1, n)
    moves = (worse | better) & ~dormant & (days < exit_day)
    shift = np.where(moves, np.where(worse, DETERIORATE_SHIFT, IMPROVE_SHIFT), 0.0)
    turn_day = np.where(moves, days, NEVER).astype(np.int64)
    p_after = np.where(dormant, DORMANT_UNREACHABLE, sigmoid(0.9 * (zc + shift) + c_p))
    return turn_day, shift, p_after

    def active_between(self, lo: int, hi: int) -> np.ndarray:
        """Entities registered before `hi` and not exited before `lo` (active some time in [lo, hi])."""
        return (self.est_day <= hi) & (self.exit_day > lo)


def registrations_per_month(cal: Calendar, n0: int) -> np.ndarray:
    """New registrations per month: replace exits and grow the stock by ANNUAL_GROWTH a year."""
    active0 = n0 * (1 - PRE_EXITED)
    monthly_growth = (1 + ANNUAL_GROWTH) ** (1 / 12) - 1
    out = np.empty(cal.months, dtype=np.int64)
    for m in range(cal.months):
        _, month = cal.year_month(m)
        stock = active0 * (1 + ANNUAL_GROWTH) ** (m / 12)
        out[m] = round(stock * (monthly_growth + MONTHLY_EXIT) * SEASON[month - 1])
    return out


def build(cal: Calendar, streams: Streams, n0: int) -> Population:
    if n0 < 1:
        raise ValueError("enterprises must be >= 1")
    rng = streams.rng("population")
    types, tws, inds = P.ENTITY_TYPES, P.towns(), P.industries()
    start = cal.first_day
    new_counts = registrations_per_month(cal, n0)
    n = n0 + int(new_counts.sum())
    reg_month = np.concatenate([np.full(n0, -1), np.repeat(np.arange(cal.months), new_counts)]).astype(np.int32)
    initial = reg_month < 0

    etype = rng.choice(len(types), n, p=[t.share for t in types]).astype(np.int8)
    tw = np.array([t.weight for t in tws])
    town = rng.choice(len(tws), n, p=tw / tw.sum()).astype(np.int16)
    industry = choose_by_group(rng, town.astype(np.int64) * len(types) + etype, attributes.industry_probs(types))
    industry = industry.astype(np.int16)
    section = np.array([ind.section for ind in inds])[industry]
    is_ind = etype == P.INDIVIDUAL
    is_ent = np.isin(etype, P.ENTERPRISE_TYPES)

    # Establishment dates: a young stock with a long tail back to the reform era.
    age_years = np.where(
        rng.random(n) < np.where(is_ind, 0.85, 0.80),
        rng.exponential(np.where(is_ind, 4.0, 6.0)),
        rng.uniform(0, np.where(is_ind, 25, 40)),
    )
    est = start - np.maximum(1, np.round(np.minimum(age_years, 40) * 365.25)).astype(np.int64)
    est = to_workday(est)
    est = np.where(est >= start, est - 3, est)
    for m in range(cal.months):
        rows = np.flatnonzero(reg_month == m)
        lo = cal.month_start(m) + (1 if m == 0 else 0)  # day 1 of the window belongs to the snapshot
        est[rows] = pick_workdays(rng, lo, cal.month_end(m), len(rows))
    age_at_start = np.where(initial, (start - est) / 365.25, 0.0)

    # Codes: category digit from the type; a few joint-stock / foreign firms registered by the province.
    category = np.array([t.category for t in types])[etype]
    division = np.where(np.isin(etype, [P.JOINT_STOCK, P.FOREIGN]) & (rng.random(n) < 0.03), "440000", "442000")
    uscc = uscc_lib.generate(rng, n, category=category, division=division, legacy=est < USCC_REFORM)

    cap_median = np.array([t.capital_median for t in types])[etype]
    cap_missing = np.array([t.capital_missing for t in types])[etype]
    capital = rng.lognormal(np.log(np.maximum(cap_median, 1e-9)), 1.1)
    capital = np.clip(capital, 0.5, 2_000_000)
    capital = attributes.nice_capital(rng, capital)
    capital[(rng.random(n) < cap_missing) | (cap_median == 0)] = np.nan

    # Business centres (集群注册): many firms at one address string.
    n_hubs = max(2, n // 2500)
    hub_w = np.array([t.weight * t.hub for t in tws])
    hub_town = rng.choice(len(tws), n_hubs, p=hub_w / hub_w.sum())
    hub_prop = np.array([P.HUB_PROPENSITY.get(ind.code, 0.01) for ind in inds])[industry]
    hub_prop = np.where(
        np.isin(etype, [P.LLC, P.SOLE, P.PARTNERSHIP]),
        hub_prop,
        np.where(is_ind & (np.array([i.code for i in inds])[industry] == "F5292"), 0.05, 0.0),
    )
    town_hub = np.array([t.hub for t in tws])
    at_hub = rng.random(n) < hub_prop * (town_hub / np.average(town_hub, weights=tw))[town]  # mostly urban
    hub = np.full(n, -1, dtype=np.int32)
    for t in range(len(tws)):
        mine = np.flatnonzero(hub_town == t)
        rows = np.flatnonzero(at_hub & (town == t))
        if len(mine) and len(rows):
            w = 1.0 / np.arange(1, len(mine) + 1) ** 0.8  # a few very large centres
            hub[rows] = mine[rng.choice(len(mine), len(rows), p=w / w.sum())]

    person, person_ids = attributes.legal_representatives(rng, hub, cal.start)
    firms_per_person = np.bincount(person)
    serial = firms_per_person[person] >= 3
    agent = firms_per_person[person] >= 10

    # Latent risk (logit scale): type, industry, town, age, capital, shell signals, noise.
    town_eff = streams.rng("town-effects").normal(0, 0.12, len(tws))
    age_eff = np.select([age_at_start < 1, age_at_start < 3, age_at_start > 10], [0.35, 0.15, -0.3], 0.0)
    cap_eff = np.where(
        np.isfinite(capital) & is_ent & (cap_median > 0),
        np.clip(
            -0.12 * np.log(np.where(np.isfinite(capital), capital, 1) / np.maximum(cap_median, 1e-9)),
            -0.5,
            0.5,
        ),
        0.0,
    )
    z = (
        np.array([t.risk for t in types])[etype]
        + np.array([i.risk for i in inds])[industry]
        + town_eff[town]
        + age_eff
        + cap_eff
        + 0.6 * (hub >= 0)
        + 0.5 * serial
        + 0.3 * agent
        # The firm's own conduct, visible only through its events and filings. Its spread (sd 0.5) sets how
        # much of the true risk any model can learn from the records: at sd 0.75 (with a noisier insured
        # share) a model fitted to the hidden truth itself reached only ~0.89 of the oracle's AUC.
        + rng.normal(0, 0.5, n)
    )
    z = z + calibrate_shift(z, MEAN_LATENT_RISK)
    zc = z - z.mean()
    latent = sigmoid(z)

    dormant_logit = 1.4 * zc + 0.5 * (age_at_start > 2)
    dormant = np.zeros(n, dtype=bool)
    b0 = calibrate_shift(dormant_logit[initial], DORMANT_INITIAL)
    dormant[initial] = rng.random(int(initial.sum())) < sigmoid(dormant_logit[initial] + b0)
    if (~initial).any():
        b1 = calibrate_shift(1.4 * zc[~initial], DORMANT_NEW)
        dormant[~initial] = rng.random(int((~initial).sum())) < sigmoid(1.4 * zc[~initial] + b1)
    c_p = calibrate_shift(0.9 * zc[~dormant], MEAN_P_PROBLEM) if (~dormant).any() else 0.0
    p_problem = np.where(dormant, DORMANT_UNREACHABLE, sigmoid(0.9 * zc + c_p))

    # Exits: a few already gone in the first snapshot; a monthly hazard afterwards.
    exit_day = np.full(n, NEVER, dtype=np.int64)
    exit_status = np.zeros(n, dtype=np.int8)
    pre_logit = zc + 1.0 * dormant
    pre = initial & (rng.random(n) < sigmoid(pre_logit + calibrate_shift(pre_logit[initial], PRE_EXITED)))
    pre_day = start - rng.integers(1, 1000, n)
    pre &= pre_day > est + 30
    exit_day[pre] = to_workday(pre_day[pre])
    exit_day[pre] = np.minimum(exit_day[pre], start - 1)
    exit_status[pre] = np.where(
        rng.random(int(pre.sum())) < np.where(dormant[pre], 0.6, 0.2), P.REVOKED, P.DEREGISTERED
    )
    type_f = np.array([0.8, 0.6, 0.9, 0.7, 0.6, 0.6, 1.4, 1.0])[etype]
    hazard = type_f * np.exp(0.5 * zc) * (1.0 + 1.5 * dormant) * np.where(age_at_start < 2, 1.3, 1.0)
    live0 = initial & ~pre
    hazard = np.minimum(hazard * MONTHLY_EXIT / hazard[live0].mean(), 0.5)
    exit_month = reg_month + rng.geometric(hazard)
    leaving = ~pre & (exit_month < cal.months)
    for m in range(cal.months):
        rows = np.flatnonzero(leaving & (exit_month == m))
        lo = cal.month_start(m) + (1 if m == 0 else 0)
        exit_day[rows] = pick_workdays(rng, lo, cal.month_end(m), len(rows))
    u = rng.random(n)
    status = np.where(
        dormant,
        np.where(u < 0.55, P.REVOKED, P.DEREGISTERED),
        np.where(
            is_ind,
            np.where(u < 0.03, P.REVOKED, P.DEREGISTERED),
            np.select([u < 0.04, u < 0.10], [P.REVOKED, P.MOVED_OUT], P.DEREGISTERED),
        ),
    )
    exit_status[leaving] = status[leaving]

    # Licences by class; manufacturers also run special equipment (boilers, forklifts, lifts).
    ind_domain = np.array([i.domain for i in inds])[industry]
    p_lic = np.array([i.p_licence for i in inds])[industry]
    lic_domain = np.where(rng.random(n) < p_lic, ind_domain, -1).astype(np.int8)
    lic_domain[(lic_domain < 0) & (section == "C") & ~is_ind & (rng.random(n) < 0.08)] = P.SPECIAL_EQUIPMENT

    # Size: employees, revenue (万元 a year), insured share - the annual-report figures.
    emp_median = {"C": 25, "F": 6, "H": 10, "E": 20, "K": 15, "L": 5, "I": 10, "M": 6}
    med = np.array([emp_median.get(i.section, 8) for i in inds], dtype=float)[industry]
    med *= np.where(np.isin(etype, [P.JOINT_STOCK, P.FOREIGN]), 4.0, np.where(etype == P.BRANCH, 0.7, 1.0))
    emp_base = np.where(is_ind, 1 + rng.poisson(1.2, n), np.maximum(1, rng.lognormal(np.log(med), 1.0)))
    emp_base = np.where(dormant, 1, emp_base)
    productivity = {"C": 45, "F": 60, "H": 15, "E": 35, "K": 80, "L": 20, "I": 25, "M": 20}
    prod = np.array([productivity.get(i.section, 15) for i in inds], dtype=float)[industry]
    rev_base = np.where(is_ind, rng.lognormal(np.log(20), 0.8, n), emp_base * prod * rng.lognormal(0, 0.6, n))
    # Social-insurance coverage tracks a firm's compliance culture closely (noise sd 0.4 on the logit scale).
    ins_ratio = np.where(is_ind, np.nan, sigmoid(2.0 - 1.0 * zc + rng.normal(0, 0.4, n)))

    # Name and address parts.
    _, wv = vocab.word_vocab()
    pick = rng.integers(0, 1 << 30, n)
    word = np.where(
        is_ind,
        wv["ind_off"][industry] + pick % wv["ind_cnt"][industry],
        wv["ent_off"][industry] + pick % wv["ent_cnt"][industry],
    )
    word = np.where(etype == P.COOP, wv["coop_off"][industry], word)  # "花卉种植" / "水产养殖"
    brand = rng.integers(0, len(vocab.brand_vocab()), n).astype(np.int32)
    nick = rng.integers(0, len(vocab.nick_vocab()), n).astype(np.int32)
    name_style = rng.integers(0, 4, n).astype(np.int8)
    town_roads = np.stack(
        [
            streams.rng("roads", t).choice(len(vocab.road_vocab()), vocab.ROADS_PER_TOWN, replace=False)
            for t in range(len(tws))
        ]
    )
    road = town_roads[town, rng.integers(0, vocab.ROADS_PER_TOWN, n)].astype(np.int32)
    num = vocab.street_numbers(rng, n)
    extra_kind, extra_a, extra_b = vocab.address_extras(rng, is_ind)
    hub_address = vocab._hub_addresses(streams.rng("hubs"), hub_town, town_roads)
    turn_day, turn_shift, p_after = risk_turns(streams, cal, zc, c_p, dormant, exit_day)

    return Population(
        n0=n0,
        etype=etype,
        town=town,
        industry=industry,
        est_day=est,
        reg_month=reg_month,
        exit_day=exit_day,
        exit_status=exit_status,
        z=z,
        zc=zc,
        latent=latent,
        p_problem=p_problem,
        dormant=dormant,
        hub=hub,
        person=person,
        serial=serial,
        capital=capital,
        uscc=uscc,
        lic_domain=lic_domain,
        emp_base=emp_base,
        rev_base=rev_base,
        ins_ratio=ins_ratio,
        brand=brand,
        nick=nick,
        word=word.astype(np.int32),
        name_style=name_style,
        road=road,
        num=num,
        extra_kind=extra_kind,
        extra_a=extra_a,
        extra_b=extra_b,
        person_ids=person_ids,
        spare_person_from=int(person.max()) + 1,
        town_roads=town_roads,
        hub_town=hub_town,
        hub_address=hub_address,
        turn_day=turn_day,
        turn_shift=turn_shift,
        p_after=p_after,
    )
