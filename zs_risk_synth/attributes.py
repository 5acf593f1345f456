"""Attributes of the synthetic city's entities (主体属性): industry by town and type, registered capital as people
write it, legal representatives shared across firms. Drawn in population.py; capital changes in registry.py.
"""

from __future__ import annotations

import numpy as np

from zs_risk_pipeline.lib.ingest import uscc as uscc_lib
from zs_risk_synth import profiles as P


def industry_probs(types: tuple[P.EntityType, ...]) -> np.ndarray:
    """P(industry | town, entity type): base weights × cluster boosts × type preferences."""
    inds = P.industries()
    tws = P.towns()
    code_idx = {ind.code: i for i, ind in enumerate(inds)}
    town_factor = np.ones((len(tws), len(inds)))
    for codes, boosts, elsewhere in P.CLUSTERS:
        cols = [code_idx[c] for c in codes]
        for t, town in enumerate(tws):
            town_factor[t, cols] *= boosts.get(town.key, elsewhere)
    for t, town in enumerate(tws):
        if town.key in P.URBAN:
            for i, ind in enumerate(inds):
                town_factor[t, i] *= P.URBAN_SECTION_FACTOR.get(ind.section, 1.0)
    probs = np.zeros((len(tws) * len(types), len(inds)))
    for k in range(len(types)):
        if k == P.INDIVIDUAL:
            base = np.array([ind.w_ind for ind in inds])
        elif k == P.COOP:
            base = np.array([1.0 if ind.code in P.COOP_CLASSES else 0.0 for ind in inds])
        else:
            sec = P.TYPE_SECTION_FACTOR.get(k, {})
            cls = P.TYPE_CLASS_FACTOR.get(k, {})
            base = np.array([ind.w_ent * sec.get(ind.section, 1.0) * cls.get(ind.code, 1.0) for ind in inds])
        for t in range(len(tws)):
            probs[t * len(types) + k] = base * town_factor[t]
    return probs / probs.sum(axis=1, keepdims=True)


def nice_capital(rng: np.random.Generator, x: np.ndarray) -> np.ndarray:
    """Most registered capitals are round numbers (10, 50, 100, 500 …): snap 80 % of them to such values."""
    nice = np.array(
        [
            1,
            2,
            3,
            5,
            8,
            10,
            20,
            30,
            50,
            80,
            100,
            200,
            300,
            500,
            800,
            1000,
            2000,
            3000,
            5000,
            8000,
            10000,
            20000,
            50000,
            100000,
        ],
        dtype=float,
    )
    pos = np.clip(np.searchsorted(np.log(nice), np.log(np.maximum(x, 1e-9))), 0, len(nice) - 1)
    lower = nice[np.maximum(pos - 1, 0)]
    upper = nice[pos]
    snapped = np.where(np.abs(np.log(x / lower)) < np.abs(np.log(upper / x)), lower, upper)
    return np.where(rng.random(len(x)) < 0.8, snapped, np.round(x, 2))


def legal_representatives(rng: np.random.Generator, hub: np.ndarray, start: str) -> tuple[np.ndarray, np.ndarray]:
    """Person index per entity: most lead one entity, some several ("one person, many firms")."""
    n = len(hub)
    shared = rng.random(n) < np.where(hub >= 0, 0.55, 0.18)
    n_shared = int(shared.sum())
    # Firms per multi-firm person: mostly 2-4, a tail of serial founders, and a few nominee agents.
    n_multi = max(1, int(n_shared / 2.6) + 8)
    k = 2 + np.floor(rng.lognormal(0.0, 0.8, n_multi)).astype(np.int64)
    agents = rng.random(n_multi) < 0.004
    k[agents] = rng.integers(10, 41, int(agents.sum()))
    slots = np.repeat(np.arange(n_multi), k)
    while len(slots) < n_shared:  # tiny populations: top up with more two-firm persons
        slots = np.concatenate([slots, np.repeat(np.arange(n_multi), 2)])
    slots = rng.permutation(slots)[:n_shared]
    n_single = n - n_shared
    person = np.empty(n, dtype=np.int64)
    person[~shared] = np.arange(n_single)
    person[shared] = n_single + slots
    # Spare identities (drawn in the same call, so distinct from everyone) for later changes of
    # representative.
    spare = max(100, n // 8)
    ids = uscc_lib.generate_resident_ids(rng, n_single + n_multi + spare, reference_date=f"{start}-01")
    return person, ids
