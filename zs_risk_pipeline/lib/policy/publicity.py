"""config/publicity.yaml (一公开): the publication deadline, the authority names, and the working-day calendar of the
years the chinese-calendar package does not cover.

PublicityFile validates the file; PublicityConfig is what lib/publicity/ reads.

Plain Python, no Dagster.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, model_validator

from zs_risk_pipeline.lib.core import workdays
from zs_risk_pipeline.lib.policy.base import FieldError, StrictModel, in_range, none_as, validate


@dataclass(frozen=True)
class PublicityConfig:
    """The validated config/publicity.yaml."""

    version: int
    deadline_working_days: int
    departments: Mapping[str, str]
    calendar: workdays.Calendar


def _day(value: Any) -> dt.date:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(f"{value!r} is not a date (YYYY-MM-DD)")


def _days(value: Any) -> frozenset[dt.date]:
    value = [] if value is None else value
    if not isinstance(value, list):
        raise ValueError(f"expected a list of dates, got {value!r}")
    return frozenset(_day(v) for v in value)


Days = Annotated[frozenset[dt.date], BeforeValidator(_days)]


class Year(StrictModel):
    holidays: Days = frozenset()  # every day off (放假), on weekdays and weekends alike
    workdays: Days = frozenset()  # make-up working days (调休上班): weekend days only

    @model_validator(mode="after")
    def _days_off_and_on(self) -> Year:
        weekdays = sorted(d.isoformat() for d in self.workdays if d.weekday() < 5)
        if weekdays:
            raise FieldError("workdays", f"{weekdays} fall on Monday–Friday; list only weekend make-up days")
        both = sorted(d.isoformat() for d in self.holidays & self.workdays)
        if both:
            raise ValueError(f"{both} listed both as holiday and as workday")
        return self


class Calendar(StrictModel):
    years: Annotated[dict[int, Year], none_as({})] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _each_year_its_own_days(self) -> Calendar:
        for year, table in self.years.items():
            if not 1900 <= year <= 2200:
                raise FieldError(("years", year), "the key must be a year such as 2027")
            for key in ("holidays", "workdays"):
                outside = sorted(d.isoformat() for d in getattr(table, key) if d.year != year)
                if outside:
                    raise FieldError(("years", year, key), f"{outside} are not in {year}")
        return self

    def build(self) -> workdays.Calendar:
        return workdays.Calendar(
            tables={y: workdays.YearTable(holidays=t.holidays, workdays=t.workdays) for y, t in self.years.items()}
        )


def _departments(value: Any) -> dict[str, str]:
    value = {} if value is None else value
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and k.strip() and isinstance(v, str) and v.strip() for k, v in value.items()
    ):
        raise ValueError("must map member-unit codes to authority names (both texts)")
    return {k.strip(): v.strip() for k, v in value.items()}


class PublicityFile(StrictModel):
    """config/publicity.yaml as written."""

    version: Annotated[int, in_range(1, 1000, integer=True)]
    deadline_working_days: Annotated[int, in_range(1, 250, integer=True)]
    departments: Annotated[dict[str, str], BeforeValidator(_departments)] = Field(default_factory=dict)
    calendar: Annotated[Calendar, none_as({})] = Calendar()

    def build(self) -> PublicityConfig:
        return PublicityConfig(
            version=self.version,
            deadline_working_days=self.deadline_working_days,
            departments=dict(self.departments),
            calendar=self.calendar.build(),
        )


def parse_calendar(raw: Any, file: str) -> workdays.Calendar:
    """A `calendar` section on its own: `{years: {YYYY: {holidays: [...], workdays: [...]}}}` (None: no table)."""
    wrapped = validate(PublicityFile, {"version": 1, "deadline_working_days": 20, "calendar": raw}, file)
    return wrapped.calendar.build()
