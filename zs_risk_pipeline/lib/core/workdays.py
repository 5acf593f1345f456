"""Chinese working-day calendar (工作日历): statutory holidays and make-up working days (调休), vectorised.

- Years the chinese-calendar package covers (2004–2026 in version 1.11) use its statutory schedule
  (basis "statutory").
- Other years use the operator's table in config/publicity.yaml `calendar.years` (basis "configured"; read and
  validated by lib/policy/publicity.py, which builds the Calendar), and without one, weekends only (basis
  "weekends_only"): then every holiday of that year is missed, so callers get the basis back with every answer
  and the export marks such rows; it is never silent.

`add_workdays(dates, n, calendar)` gives the n-th working day after each date for a whole array at once:
the working days of the needed range are built once with numpy and each date is located by searchsorted.
Plain Python, no Dagster.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import chinese_calendar
import numpy as np

STATUTORY = "statutory"
CONFIGURED = "configured"
WEEKENDS_ONLY = "weekends_only"
BASES = (STATUTORY, CONFIGURED, WEEKENDS_ONLY)  # most to least reliable; a result carries the weakest it used
BASIS_ZH = {
    STATUTORY: "法定节假日安排",
    CONFIGURED: "运维配置的节假日安排",
    WEEKENDS_ONLY: "仅按周末推算（未含节假日）",
}
_RANK = {b: i for i, b in enumerate(BASES)}
_EPOCH_WEEKDAY = 3  # 1970-01-01 was a Thursday (Monday = 0)


@dataclass(frozen=True)
class YearTable:
    """An operator's holiday table for one year the package does not cover."""

    holidays: frozenset[dt.date]  # days off (放假), weekdays and weekends alike
    workdays: frozenset[dt.date]  # make-up working days (调休上班), weekend days only


@dataclass(frozen=True)
class Calendar:
    """The working-day calendar: the package's statutory years plus the operator's tables."""

    tables: Mapping[int, YearTable] = field(default_factory=dict)

    def basis(self, year: int) -> str:
        if _package_year(year) is not None:
            return STATUTORY
        return CONFIGURED if year in self.tables else WEEKENDS_ONLY

    @property
    def ignored_years(self) -> list[int]:
        """Configured years the package covers: the statutory schedule wins (so an upgrade of the package
        never breaks a deployment whose operator filled in a year in advance)."""
        return sorted(y for y in self.tables if _package_year(y) is not None)

    def workdays(self, start: dt.date | np.datetime64, end: dt.date | np.datetime64) -> np.ndarray:
        """The working days from start to end inclusive, ascending (datetime64[D])."""
        days = np.arange(np.datetime64(start, "D"), np.datetime64(end, "D") + 1, dtype="datetime64[D]")
        work = (days.astype(np.int64) + _EPOCH_WEEKDAY) % 7 < 5
        years = days.astype("datetime64[Y]").astype(np.int64) + 1970
        for year in np.unique(years):
            off, on = self._exceptions(int(year))
            work[np.isin(days, off)] = False
            work[np.isin(days, on)] = True
        return days[work]

    def _exceptions(self, year: int) -> tuple[np.ndarray, np.ndarray]:
        package = _package_year(year)
        if package is not None:
            return package
        table = self.tables.get(year)
        if table is None:
            return np.array([], dtype="datetime64[D]"), np.array([], dtype="datetime64[D]")
        return _dates(table.holidays), _dates(table.workdays)


def _dates(days: Any) -> np.ndarray:
    return np.array(sorted(days), dtype="datetime64[D]")


@cache
def _package_year(year: int) -> tuple[np.ndarray, np.ndarray] | None:
    """(holidays, make-up workdays) of a year from chinese-calendar, or None when it does not cover the year."""
    try:
        chinese_calendar.is_workday(dt.date(year, 1, 1))
    except NotImplementedError:
        return None
    return (
        _dates(d for d in chinese_calendar.holidays if d.year == year),
        _dates(d for d in chinese_calendar.workdays if d.year == year),
    )


def is_workday(day: dt.date, calendar: Calendar) -> bool:
    """Whether people work on that day in mainland China (statutory schedule, else the configured table,
    else Monday to Friday)."""
    return len(calendar.workdays(day, day)) == 1


@dataclass(frozen=True)
class Deadlines:
    """Computed dates with the calendar basis each one used (the weakest over the days it spans)."""

    dates: np.ndarray  # datetime64[D]
    basis: np.ndarray  # one of BASES per date (object array)


def _as_days(values: Any) -> np.ndarray:
    return np.atleast_1d(np.asarray(values, dtype="datetime64[D]"))


def _workdays_covering(calendar: Calendar, start: np.datetime64, end: np.datetime64, n: int) -> np.ndarray:
    """Working days from start on, far enough past end that the n-th working day after end is included."""
    # Generous first guess: 7/5 of n plus the longest holiday run (Spring Festival, about 9 days).
    span = int(n) * 7 // 5 + 30
    while True:
        days = calendar.workdays(start, end + span)
        if np.searchsorted(days, end, side="right") + n <= len(days):
            return days
        span *= 2


def basis_between(start: Any, end: Any, calendar: Calendar) -> np.ndarray:
    """Per pair of dates, the weakest basis over the years from start to end (inclusive)."""
    first, last = _as_days(start), _as_days(end)
    out = np.full(first.shape, STATUTORY, dtype=object)
    if first.size == 0:
        return out
    y0 = first.astype("datetime64[Y]").astype(np.int64) + 1970
    y1 = np.maximum(last.astype("datetime64[Y]").astype(np.int64) + 1970, y0)
    lo = int(y0.min())
    ranks = np.array([_RANK[calendar.basis(y)] for y in range(lo, int(y1.max()) + 1)])
    worst = ranks[y0 - lo]
    for k in range(1, int((y1 - y0).max()) + 1):  # a loop over the few years a window spans, not over rows
        worst = np.maximum(worst, ranks[np.minimum(y0 + k, y1) - lo])
    out[:] = np.array(BASES, dtype=object)[worst]
    return out


def add_workdays(start: Any, n: int, calendar: Calendar) -> Deadlines:
    """The n-th working day after each date. The start day itself never counts, working day or not:
    自抽查检查结果形成之日起20个工作日内 counts from the next day, as periods in days do in Chinese law
    (民法典 第二百零一条: 开始的当日不计入，自下一日开始计算). So n = 1 is the first working day after."""
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
        raise ValueError(f"the number of working days must be a positive integer, got {n!r}")
    days = _as_days(start)
    if days.size == 0:
        return Deadlines(np.array([], dtype="datetime64[D]"), np.array([], dtype=object))
    work = _workdays_covering(calendar, days.min() + 1, days.max(), int(n))
    result = work[np.searchsorted(work, days, side="right") + n - 1]
    return Deadlines(result, basis_between(days + 1, result, calendar))


def roll_forward(day: Any, calendar: Calendar) -> Deadlines:
    """Each date itself when it is a working day, else the next working day."""
    days = _as_days(day)
    if days.size == 0:
        return Deadlines(np.array([], dtype="datetime64[D]"), np.array([], dtype=object))
    work = _workdays_covering(calendar, days.min(), days.max(), 1)
    result = work[np.searchsorted(work, days, side="left")]
    return Deadlines(result, basis_between(days, result, calendar))


def workdays_after_until(start: Any, end: Any, calendar: Calendar) -> np.ndarray:
    """Per pair, the working days in (start, end]: how many working days after start `end` is (0 if before)."""
    first, last = _as_days(start), _as_days(end)
    if first.size == 0:
        return np.array([], dtype=np.int64)
    work = calendar.workdays(min(first.min(), last.min()), max(first.max(), last.max()))
    counts = np.searchsorted(work, last, side="right") - np.searchsorted(work, first, side="right")
    return np.maximum(counts, 0).astype(np.int64)


def deadline(formed_on: dt.date, n: int, calendar: Calendar) -> tuple[dt.date, str]:
    """One deadline and the basis it used: the n-th working day after the day the result was formed."""
    found = add_workdays(formed_on, n, calendar)
    return found.dates[0].astype(dt.date), str(found.basis[0])
