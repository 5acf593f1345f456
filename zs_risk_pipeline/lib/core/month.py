"""Calendar months (月份): the one type every month computation of the pipeline goes through.

A month is written 'YYYY-MM' (a label: plan ids, folders, registry entries) or 'YYYY-MM-01' (a Dagster
partition key); in the warehouse it is the date of its first day. `Month` converts between them and does the
arithmetic (the month before, twelve months back), so no module parses months or adds calendar offsets itself.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

LABEL = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")  # 'YYYY-MM'
_LABEL_OR_KEY = re.compile(r"^\d{4}-(0[1-9]|1[0-2])(-01)?$")  # 'YYYY-MM' or the partition key 'YYYY-MM-01'


@dataclass(frozen=True, order=True)
class Month:
    year: int
    number: int  # 1..12

    def __post_init__(self) -> None:
        if not 1 <= self.number <= 12:
            raise ValueError(f"month number must be 1..12, got {self.number}")

    @classmethod
    def of(cls, value: str | dt.date | Month) -> Month:
        """The month of 'YYYY-MM', a partition key 'YYYY-MM-01', a date (any day of it) or a Month."""
        if isinstance(value, Month):
            return value
        if isinstance(value, dt.date):
            return cls(value.year, value.month)
        if not isinstance(value, str) or not _LABEL_OR_KEY.match(value):
            raise ValueError(f"month must be 'YYYY-MM' or 'YYYY-MM-01', got {value!r}")
        return cls(int(value[:4]), int(value[5:7]))

    @staticmethod
    def is_label(value: object) -> bool:
        """True for a string 'YYYY-MM' (and nothing else)."""
        return isinstance(value, str) and LABEL.match(value) is not None

    @staticmethod
    def is_label_or_key(value: object) -> bool:
        return isinstance(value, str) and _LABEL_OR_KEY.match(value) is not None

    @property
    def start(self) -> dt.date:
        return dt.date(self.year, self.number, 1)

    @property
    def end(self) -> dt.date:
        """The last day of the month."""
        return self.next().start - dt.timedelta(days=1)

    @property
    def label(self) -> str:
        return f"{self.year:04d}-{self.number:02d}"

    @property
    def key(self) -> str:
        """The Dagster partition key."""
        return f"{self.label}-01"

    def __str__(self) -> str:
        return self.label

    def shift(self, months: int) -> Month:
        index = self.year * 12 + self.number - 1 + months
        return Month(index // 12, index % 12 + 1)

    def next(self) -> Month:
        return self.shift(1)

    def previous(self) -> Month:
        return self.shift(-1)

    def months_since(self, other: Month) -> int:
        """How many months `other` lies before this month (negative when after)."""
        return (self.year - other.year) * 12 + self.number - other.number
