"""Registry deliveries (登记注册信息): the first snapshot, then registrations, exits and changes per month,
and the vectorised construction of names and addresses from their parts."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from zs_risk_synth import profiles as P
from zs_risk_synth._util import (
    CN_NUM,
    NEVER,
    Calendar,
    Events,
    Streams,
    concat,
    int_str,
    join,
    pick_workdays,
    sort_events,
    vocab_take,
)
from zs_risk_synth.attributes import nice_capital
from zs_risk_synth.population import Population
from zs_risk_synth.vocab import (
    ROADS_PER_TOWN,
    address_extras,
    brand_vocab,
    nick_vocab,
    road_vocab,
    street_numbers,
    word_vocab,
)

MUTABLE = ("brand", "nick", "road", "num", "extra_kind", "extra_a", "extra_b", "hub", "person", "capital")
CHANGE_KINDS = ("legal_rep", "address", "name", "capital")
MONTHLY_CHANGE = 0.006  # share of active entities recording a change in a month (before risk effects)


def registry_rows(pop: Population, cal: Calendar, streams: Streams) -> Events:
    """One row per entity per registry event; each row carries the entity's attributes as of that event."""
    state = {k: getattr(pop, k).copy() for k in MUTABLE}
    spare = pop.spare_person_from
    is_ind = pop.etype == P.INDIVIDUAL
    change_rate = MONTHLY_CHANGE * np.exp(0.4 * pop.zc) * np.where(pop.serial & ~is_ind, 3.0, 1.0)

    def rows(idx: np.ndarray, days: np.ndarray, status: np.ndarray, status_day: np.ndarray, m: int) -> Events:
        n = len(idx)
        out = {
            "idx": idx.astype(np.int64),
            "day": np.asarray(days, np.int64),
            "status": np.broadcast_to(status, (n,)).astype(np.int8),
            "status_day": np.broadcast_to(status_day, (n,)).astype(np.int64),
            "month": np.full(n, m, np.int64),
        }
        out.update({k: state[k][idx] for k in MUTABLE})
        return out

    rng0 = streams.rng("registry", "snapshot")
    init = np.arange(pop.n0)
    gone = pop.exit_day[init] < cal.first_day
    status = np.where(gone, pop.exit_status[init], np.where(rng0.random(pop.n0) < 0.15, P.OPERATING, P.ACTIVE))
    parts = [rows(init, np.full(pop.n0, cal.first_day), status, np.where(gone, pop.exit_day[init], NEVER), 0)]
    for m in range(cal.months):
        rng = streams.rng("registry", m)
        ms, me = cal.month_start(m), cal.month_end(m)
        new = np.flatnonzero(pop.reg_month == m)
        parts.append(rows(new, pop.est_day[new], np.int8(P.ACTIVE), np.int64(NEVER), m))
        gone = np.flatnonzero((pop.exit_day >= ms) & (pop.exit_day <= me))
        parts.append(rows(gone, pop.exit_day[gone], pop.exit_status[gone], pop.exit_day[gone], m))
        cand = np.flatnonzero((pop.est_day < ms) & (pop.exit_day > me))
        ch = cand[rng.random(len(cand)) < change_rate[cand]]
        kind = rng.choice(len(CHANGE_KINDS), len(ch), p=[0.3, 0.3, 0.15, 0.25])
        kind[(kind == 3) & is_ind[ch]] = 1  # individual businesses rarely record capital
        spare = _apply_changes(rng, pop, state, ch, kind, spare)
        days = pick_workdays(rng, ms + (1 if m == 0 else 0), me, len(ch))
        parts.append(rows(ch, days, np.int8(P.ACTIVE), np.int64(NEVER), m))
    return sort_events(concat(parts), "month", "day", "idx")


def _apply_changes(
    rng: np.random.Generator, pop: Population, state: dict, ch: np.ndarray, kind: np.ndarray, spare: int
) -> int:
    rep = ch[kind == 0]
    take_new = min(len(rep), len(pop.person_ids) - spare)
    state["person"][rep[:take_new]] = np.arange(spare, spare + take_new)
    state["person"][rep[take_new:]] = rng.integers(0, spare, len(rep) - take_new)  # spares used up
    addr = ch[kind == 1]
    state["road"][addr] = pop.town_roads[pop.town[addr], rng.integers(0, ROADS_PER_TOWN, len(addr))]
    state["num"][addr] = street_numbers(rng, len(addr))
    kind_, a_, b_ = address_extras(rng, pop.etype[addr] == P.INDIVIDUAL)
    state["extra_kind"][addr], state["extra_a"][addr], state["extra_b"][addr] = kind_, a_, b_
    state["hub"][addr[rng.random(len(addr)) < 0.7]] = -1
    name = ch[kind == 2]
    state["brand"][name] = rng.integers(0, len(brand_vocab()), len(name))
    state["nick"][name] = rng.integers(0, len(nick_vocab()), len(name))
    cap = ch[kind == 3]
    old = state["capital"][cap]
    factor = rng.choice(np.array([2.0, 3.0, 5.0, 10.0, 0.5, 0.2]), len(cap), p=[0.3, 0.2, 0.2, 0.1, 0.15, 0.05])
    new = np.where(np.isfinite(old), old * factor, rng.lognormal(np.log(50), 1.0, len(cap)))
    state["capital"][cap] = nice_capital(rng, np.maximum(new, 0.5))
    return spare + take_new


# --- names and addresses ---------------------------------------------------------------------------------

_PREFIX = ("", "中山市", "中山", "广东")
_SUFFIX = (
    "",
    "有限公司",
    "股份有限公司",
    "厂",
    "商行",
    "经营部",
    "合伙企业（有限合伙）",
    "合伙企业（普通合伙）",
    "（中山）有限公司",
    "专业合作社",
)


@lru_cache(maxsize=1)
def _vocab() -> dict[str, pa.Array]:
    tws = P.towns()
    words, _ = word_vocab()
    places = [""] + [t.short for t in tws] + [t.place for t in tws]
    tails = [""] + [f"{t.short or t.place}{kind}" for t in tws for kind in ("分公司", "分店")]
    return {
        "brand": pa.array(brand_vocab()),
        "nick": pa.array(nick_vocab()),
        "word": pa.array(words),
        "road": pa.array(road_vocab()),
        "place": pa.array(places),
        "tail": pa.array(tails),
        "town_name": pa.array([t.name_zh for t in tws]),
        "cn": pa.array(list(CN_NUM)),
    }


def names(pop: Population, idx: np.ndarray, brand: np.ndarray, nick: np.ndarray, word: np.ndarray) -> pa.Array:
    """中山市古镇明辉灯饰有限公司, 中山市小榄镇阿强五金店, 明辉电器（中山）有限公司, … (vectorised)."""
    v = _vocab()
    n_towns = len(P.towns())
    et = pop.etype[idx]
    style = pop.name_style[idx].astype(np.int64)
    town = pop.town[idx].astype(np.int64)
    section = np.array([i.section for i in P.industries()])[pop.industry[idx]]
    odd = (style & 1) == 1
    prefix = np.select([et == P.JOINT_STOCK, et == P.FOREIGN], [np.where(odd, 3, 2), np.where(odd, 0, 2)], 1)
    place = np.select(
        [np.isin(et, [P.LLC, P.SOLE]) & odd, np.isin(et, [P.COOP, P.INDIVIDUAL])],
        [1 + town, 1 + n_towns + town],
        0,
    )
    suffix = np.select(
        [
            et == P.LLC,
            et == P.JOINT_STOCK,
            et == P.SOLE,
            et == P.PARTNERSHIP,
            et == P.FOREIGN,
            et == P.COOP,
            et == P.INDIVIDUAL,
            et == P.BRANCH,
        ],
        [
            1,
            2,
            np.select([section == "C", section == "F"], [3, 4], 5),
            np.where(style < 3, 6, 7),
            np.where(odd, 8, 1),
            9,
            0,
            1,
        ],
    )
    shop = np.isin(section, ["F", "H"])
    tail = np.where(et == P.BRANCH, 1 + 2 * town + shop, 0)
    core = pc.if_else(
        pa.array(et == P.INDIVIDUAL),
        v["nick"].take(pa.array(nick.astype(np.int64))),
        v["brand"].take(pa.array(brand.astype(np.int64))),
    )
    return join(
        vocab_take(_PREFIX, prefix),
        v["place"].take(pa.array(place)),
        core,
        v["word"].take(pa.array(word.astype(np.int64))),
        vocab_take(_SUFFIX, suffix),
        v["tail"].take(pa.array(tail)),
    )


def addresses(
    pop: Population,
    idx: np.ndarray,
    road: np.ndarray,
    num: np.ndarray,
    extra_kind: np.ndarray,
    extra_a: np.ndarray,
    extra_b: np.ndarray,
    hub: np.ndarray,
) -> pa.Array:
    """中山市古镇镇东兴路12号首层 …; firms at a business centre share its address verbatim."""
    v = _vocab()
    a, b = int_str(extra_a), int_str(extra_b)
    extras = [
        pa.array([""] * len(idx), pa.string()),
        pa.array(["首层"] * len(idx), pa.string()),
        join("之", v["cn"].take(pa.array(np.clip(extra_a, 1, 10).astype(np.int64)))),
        join(a, "栋", b, "楼"),
        join(b, "层", b, int_str(extra_a, 2), "室"),
    ]
    extra = extras[0]
    for k in range(1, len(extras)):
        extra = pc.if_else(pa.array(extra_kind == k), extras[k], extra)
    regular = join(
        "中山市",
        v["town_name"].take(pa.array(pop.town[idx].astype(np.int64))),
        v["road"].take(pa.array(road.astype(np.int64))),
        int_str(num),
        "号",
        extra,
    )
    at_hub = hub >= 0
    if not at_hub.any():
        return regular
    hub_addr = pa.array(pop.hub_address.tolist(), pa.string()).take(pa.array(np.maximum(hub, 0).astype(np.int64)))
    return pc.if_else(pa.array(at_hub), hub_addr, regular)
