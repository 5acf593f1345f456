"""Distribution drift of indicators between months (指标漂移): the population stability index (PSI).

PSI = Σ (q − p) · ln(q / p) over bins, p the reference month's shares, q the current month's. Numeric
indicators are binned on the reference month's deciles as fixed edges, except that a value the deciles repeat
(an atom: a value holding about a tenth of the reference or more, such as the 0 of a count most firms never
have) is a bin of its own; without that bin the atom would be merged with everything above it, and a count
going from 95 % to 70 % zeros would show PSI 0. Binary and categorical indicators get one bin per value seen
on either side; NULL is a bin of its own. Empty bins get a small epsilon so one empty bin cannot make PSI
infinite. Conventions (methods.md §2.2): < 0.10 stable, 0.10–0.25 moderate, > 0.25 significant; at
city-wide sample sizes these cut-offs almost never fire by chance.

`bin_counts` and `psi_from_counts` are the one binning and the one formula; model monitoring uses them too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

EPSILON = 1e-4


@dataclass(frozen=True)
class Drift:
    indicator: str
    psi: float
    severity: str  # stable | moderate | significant


def bin_counts(
    reference: pd.Series, current: pd.Series, *, kind: str = "numeric", bins: int = 10
) -> tuple[np.ndarray, np.ndarray]:
    """Rows per bin of the reference and the current sample (aligned arrays), bins fixed by the reference; the
    last bin is NULL.

    Numeric: the reference's `bins`-quantiles as edges; a value equal to an edge the quantiles repeat is a bin
    of its own. Some bins may be empty on both sides; they add nothing to the PSI. Other kinds: one bin per
    value seen on either side.
    """
    ref_null = reference.isna().to_numpy()
    cur_null = current.isna().to_numpy()
    if kind == "numeric":
        ref = reference.to_numpy(dtype=float, na_value=np.nan)[~ref_null]
        cur = current.to_numpy(dtype=float, na_value=np.nan)[~cur_null]
        deciles = np.quantile(ref, np.linspace(0, 1, bins + 1)[1:-1]) if len(ref) else np.empty(0)
        edges, repeats = np.unique(deciles, return_counts=True)
        atoms = edges[repeats > 1]

        def codes(values: np.ndarray) -> np.ndarray:
            # 2·(number of edges ≤ x) is the interval [e_{j-1}, e_j) doubled; +1 splits off x equal to an atom.
            return 2 * np.searchsorted(edges, values, side="right") + np.isin(values, atoms)

        ref_codes, cur_codes = codes(ref), codes(cur)
        n_bins = 2 * len(edges) + 3  # codes 0 … 2·len(edges)+1, then the NULL bin
    else:
        # factorize, not str(): an int 0 in one month and a float 0.0 in the next are the same category
        values = pd.concat([reference[~ref_null], current[~cur_null]], ignore_index=True)
        both, uniques = pd.factorize(values, sort=True)
        n_ref = int((~ref_null).sum())
        ref_codes, cur_codes = both[:n_ref], both[n_ref:]
        n_bins = len(uniques) + 1
    null_bin = n_bins - 1
    ref_counts = np.bincount(ref_codes, minlength=n_bins)
    cur_counts = np.bincount(cur_codes, minlength=n_bins)
    ref_counts[null_bin] += int(ref_null.sum())
    cur_counts[null_bin] += int(cur_null.sum())
    return ref_counts, cur_counts


def psi_from_counts(reference: Sequence[float] | np.ndarray, current: Sequence[float] | np.ndarray) -> float:
    """PSI of two count vectors over the same bins; a share below EPSILON (an empty bin) is raised to it."""
    p = np.asarray(reference, dtype=float)
    q = np.asarray(current, dtype=float)
    p = np.maximum(p / max(p.sum(), 1.0), EPSILON)
    q = np.maximum(q / max(q.sum(), 1.0), EPSILON)
    return float(np.sum((q - p) * np.log(q / p)))


def psi(reference: pd.Series, current: pd.Series, *, kind: str = "numeric", bins: int = 10) -> float:
    """PSI of `current` against `reference` on the bins of `bin_counts`."""
    return psi_from_counts(*bin_counts(reference, current, kind=kind, bins=bins))


def severity(value: float, moderate: float = 0.10, significant: float = 0.25) -> str:
    if value >= significant:
        return "significant"
    return "moderate" if value >= moderate else "stable"


def drift_report(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    kinds: dict[str, str],
    *,
    bins: int = 10,
    moderate: float = 0.10,
    significant: float = 0.25,
) -> list[Drift]:
    """PSI of every indicator named in kinds, largest first."""
    out = [
        Drift(name, round(v, 6), severity(v, moderate, significant))
        for name, kind in kinds.items()
        for v in [psi(reference[name], current[name], kind=kind, bins=bins)]
    ]
    return sorted(out, key=lambda d: (-d.psi, d.indicator))
