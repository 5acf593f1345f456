"""Words of the synthetic city (名称与地址词汇): brands, nicknames, roads and street numbers, vectorised."""

from __future__ import annotations

import numpy as np

from zs_risk_synth import profiles as P


def brand_vocab() -> list[str]:
    return [a + b for a in P.BRAND_1 for b in P.BRAND_2 if a != b]


def nick_vocab() -> list[str]:
    """Names of individual businesses' owners as shop signs use them: 阿强, 陈记, 陈志强."""
    out = ["阿" + g for g in P.GIVEN] + [s + "记" for s in P.SURNAMES]
    out += [s + g1 + g2 for s in P.SURNAMES for g1 in P.GIVEN for g2 in P.GIVEN if g1 != g2]
    return out


def road_vocab() -> list[str]:
    return [h + t for h in P.ROAD_HEAD for t in P.ROAD_TAIL]


def word_vocab() -> tuple[list[str], dict[str, np.ndarray]]:
    """All name words, and per industry the offset/count of its enterprise, shop and co-operative words."""
    words: list[str] = []
    idx: dict[str, list[int]] = {k: [] for k in ("ent_off", "ent_cnt", "ind_off", "ind_cnt", "coop_off")}
    for ind in P.industries():
        idx["ent_off"].append(len(words))
        idx["ent_cnt"].append(len(ind.ent_words))
        words += list(ind.ent_words)
        shop = list(ind.ind_words) or list(ind.ent_words[:1])
        idx["ind_off"].append(len(words))
        idx["ind_cnt"].append(len(shop))
        words += shop
        coop = P.COOP_CLASSES.get(ind.code, ind.ent_words[:1])
        idx["coop_off"].append(len(words))
        words.append(coop[0])
    return words, {k: np.array(v, dtype=np.int64) for k, v in idx.items()}


ROADS_PER_TOWN = 60


def address_extras(rng: np.random.Generator, is_ind: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What follows the house number (see registry.addresses): shops mostly on the ground floor
    (首层, 之三), firms in units of office buildings (3栋12楼, 12层1205室)."""
    n = len(is_ind)
    kind = np.where(
        is_ind, rng.choice(5, n, p=[0.3, 0.45, 0.22, 0.03, 0.0]), rng.choice(5, n, p=[0.15, 0.05, 0.1, 0.3, 0.4])
    ).astype(np.int8)
    return kind, rng.integers(1, 10, n).astype(np.int16), rng.integers(1, 30, n).astype(np.int16)


def street_numbers(rng: np.random.Generator, n: int) -> np.ndarray:
    """House numbers 1-500, lower numbers somewhat more common."""
    return (1 + np.floor(rng.random(n) ** 1.5 * 500)).astype(np.int32)


def _hub_addresses(rng: np.random.Generator, hub_town: np.ndarray, town_roads: np.ndarray) -> np.ndarray:
    """Full address strings of the business centres, shared verbatim by the firms registered there."""
    tws = P.towns()
    roads = road_vocab()
    brands = brand_vocab()
    out = []
    for t in hub_town:  # a few thousand centres at most: a plain loop is fine here
        road = roads[town_roads[t, rng.integers(0, ROADS_PER_TOWN)]]
        floor = int(rng.integers(2, 30))
        building = brands[rng.integers(0, len(brands))] + P.HUB_NAMES[rng.integers(0, len(P.HUB_NAMES))]
        room = f"{floor}层{floor}{int(rng.integers(1, 20)):02d}室"
        out.append(f"中山市{tws[t].name_zh}{road}{int(rng.integers(1, 200))}号{building}{room}")
    return np.array(out, dtype=object)
