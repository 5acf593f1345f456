"""Small shared pieces of the synthetic city: calendar, random streams, event tables, vectorised helpers."""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

NEVER = np.int64(10**6)  # "no such day": far beyond any window (day numbers are days since 1970-01-01)


def day(iso: str) -> int:
    return int(np.datetime64(iso, "D").astype(np.int64))


@dataclass(frozen=True)
class Calendar:
    """The generated window: `months` calendar months from `start` ("YYYY-MM")."""

    start: str
    months: int

    def __post_init__(self) -> None:
        if self.months < 1:
            raise ValueError("months must be >= 1")
        np.datetime64(self.start, "M")  # raises on a malformed month

    @property
    def bounds(self) -> np.ndarray:
        """Day number of the first day of each month, plus the day after the last month."""
        first = np.datetime64(self.start, "M")
        return (first + np.arange(self.months + 1)).astype("datetime64[D]").astype(np.int64)

    @property
    def first_day(self) -> int:
        return int(self.bounds[0])

    @property
    def last_day(self) -> int:
        return int(self.bounds[-1] - 1)

    def month_start(self, m: int) -> int:
        return int(self.bounds[m])

    def month_end(self, m: int) -> int:
        return int(self.bounds[m + 1] - 1)

    def month_of(self, days: np.ndarray) -> np.ndarray:
        """Month index of each day: -1 before the window, `months` after it."""
        return np.searchsorted(self.bounds, np.asarray(days), side="right") - 1

    def label(self, m: int) -> str:
        return str(np.datetime64(self.start, "M") + m)

    def year_month(self, m: int) -> tuple[int, int]:
        ym = np.datetime64(self.start, "M") + m
        return int(ym.astype("datetime64[Y]").astype(int) + 1970), int(ym.astype(int) % 12 + 1)


class Streams:
    """Independent, reproducible random streams named by purpose, e.g. rng("complaints", month).

    Names are turned into integers with CRC-32 (stable across runs and platforms, unlike hash()), so the
    stream of one purpose never shifts when another purpose draws more or fewer numbers.
    """

    def __init__(self, seed: int):
        self.seed = int(seed)

    def rng(self, *names: str | int) -> np.random.Generator:
        key = tuple(zlib.crc32(n.encode("utf-8")) if isinstance(n, str) else int(n) for n in names)
        return np.random.default_rng(np.random.SeedSequence(entropy=self.seed, spawn_key=key))


# --- event tables: dict of equally long numpy arrays ---------------------------------------------------

Events = dict[str, np.ndarray]


def empty_events(**dtypes: str | type) -> Events:
    return {k: np.empty(0, dtype=v) for k, v in dtypes.items()}


def take(ev: Events, idx: np.ndarray) -> Events:
    return {k: v[idx] for k, v in ev.items()}


def concat(parts: Sequence[Events]) -> Events:
    parts = [p for p in parts if p]
    keys = list(parts[0])
    for p in parts[1:]:
        if list(p) != keys:
            raise ValueError(f"event tables disagree on columns: {keys} vs {list(p)}")
    return {k: np.concatenate([p[k] for p in parts]) for k in keys}


def n_rows(ev: Events) -> int:
    return len(next(iter(ev.values()))) if ev else 0


def sort_events(ev: Events, *keys: str) -> Events:
    """Stable lexicographic sort on the given columns (first key most significant)."""
    if not n_rows(ev):
        return ev
    order = np.lexsort([ev[k] for k in reversed(keys)])
    return take(ev, order)


# --- numeric helpers ---------------------------------------------------------------------------------


def sigmoid(x: np.ndarray | float) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=np.float64)))


def calibrate_shift(z: np.ndarray, target: float, scale: float = 1.0) -> float:
    """The shift b with mean(sigmoid(scale * z + b)) == target (Newton's method, deterministic)."""
    x = scale * np.asarray(z, dtype=np.float64)
    if not len(x):
        return 0.0
    b = float(np.log(target / (1 - target)) - x.mean())
    for _ in range(50):
        s = sigmoid(x + b)
        f = s.mean() - target
        if abs(f) < 1e-10:
            break
        b -= f / max(float((s * (1 - s)).mean()), 1e-12)
    return b


def weekday(days: np.ndarray) -> np.ndarray:
    """Monday = 0 … Sunday = 6 (1970-01-01 was a Thursday)."""
    return (np.asarray(days) + 3) % 7


def to_workday(days: np.ndarray) -> np.ndarray:
    """Move a Saturday back to Friday and a Sunday on to Monday: offices decide on working days."""
    d = np.asarray(days, dtype=np.int64)
    wd = weekday(d)
    return d - (wd == 5) + (wd == 6)


def workdays(lo: int, hi: int) -> np.ndarray:
    """All Monday-Friday day numbers in [lo, hi]."""
    d = np.arange(lo, hi + 1, dtype=np.int64)
    return d[weekday(d) < 5]


def pick_workdays(rng: np.random.Generator, lo: int, hi: int, n: int) -> np.ndarray:
    days = workdays(lo, hi)
    if not len(days):
        days = np.arange(lo, hi + 1, dtype=np.int64)
    return days[rng.integers(0, len(days), n)]


def uniform_days(
    rng: np.random.Generator, lo: np.ndarray | int, hi: np.ndarray | int, n: int | None = None
) -> np.ndarray:
    """Integer days uniform on [lo, hi] (inclusive), element-wise."""
    lo_a = np.asarray(lo, dtype=np.int64)
    hi_a = np.asarray(hi, dtype=np.int64)
    size = n if n is not None else np.broadcast(lo_a, hi_a).shape
    u = rng.random(size)
    return lo_a + np.floor(u * (hi_a - lo_a + 1)).astype(np.int64)


def weighted_sample(rng: np.random.Generator, candidates: np.ndarray, weights: np.ndarray, k: int) -> np.ndarray:
    """k distinct candidates drawn with probability proportional to weight (Efraimidis-Spirakis keys)."""
    k = min(k, len(candidates))
    if k <= 0:
        return candidates[:0]
    keys = np.log(rng.random(len(candidates))) / np.maximum(weights, 1e-300)
    top = np.argpartition(-keys, k - 1)[:k]
    return np.sort(candidates[top])


def choose_by_group(rng: np.random.Generator, group: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """One category per row from the row's group's probability vector (probs: groups × categories)."""
    cdf = np.cumsum(probs, axis=1)
    cdf /= cdf[:, -1:]
    u = rng.random(len(group))
    out = np.empty(len(group), dtype=np.int64)
    for g in np.unique(group):
        rows = np.flatnonzero(group == g)
        out[rows] = np.searchsorted(cdf[g], u[rows], side="right")
    return np.minimum(out, probs.shape[1] - 1)


def first_of_runs(keys: Iterable[np.ndarray]) -> np.ndarray:
    """True where any of the (already sorted) key columns differs from the previous row."""
    keys = list(keys)
    n = len(keys[0])
    out = np.ones(n, dtype=bool)
    if n > 1:
        same = np.ones(n - 1, dtype=bool)
        for k in keys:
            same &= k[1:] == k[:-1]
        out[1:] = ~same
    return out


# --- string helpers (pyarrow compute: vectorised C++) ---------------------------------------------------


def vocab_take(vocab: Sequence[str], idx: np.ndarray) -> pa.Array:
    return pa.array(list(vocab), pa.string()).take(pa.array(np.asarray(idx, dtype=np.int64)))


def join(*parts: pa.Array | str) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


def int_str(values: np.ndarray, width: int = 0) -> pa.Array:
    s = pc.cast(pa.array(np.asarray(values, dtype=np.int64)), pa.string())
    return pc.utf8_lpad(s, width=width, padding="0") if width else s


def iso_dates(days: np.ndarray) -> pa.Array:
    """ISO date strings; NEVER and negative sentinels become null."""
    d = np.asarray(days, dtype=np.int64)
    mask = d >= NEVER
    arr = pa.array(d.astype("datetime64[D]"), pa.date32(), mask=mask)
    return pc.cast(arr, pa.string())


def dates32(days: np.ndarray) -> pa.Array:
    d = np.asarray(days, dtype=np.int64)
    return pa.array(d.astype("datetime64[D]"), pa.date32(), mask=d >= NEVER)


def decimal_str(values: np.ndarray, decimals: int = 2) -> pa.Array:
    """Plain decimal text (no exponent, trailing zeros dropped); NaN becomes null."""
    v = np.asarray(values, dtype=np.float64)
    mask = ~np.isfinite(v)
    scaled = np.round(np.where(mask, 0, v) * 10**decimals).astype(np.int64)
    whole = scaled // 10**decimals
    frac = scaled % 10**decimals
    w = int_str(whole)
    f = pc.utf8_rtrim(int_str(frac, decimals), characters="0")
    out = pc.if_else(pa.array(frac == 0), w, join(w, ".", f))
    return pc.if_else(pa.array(mask), pa.scalar(None, pa.string()), out)


CN_NUM = ("零", "一", "二", "三", "四", "五", "六", "七", "八", "九", "十")
