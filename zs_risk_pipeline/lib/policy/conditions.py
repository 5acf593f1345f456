"""The condition mini-language of the scorecard and the tier overrides (指标条件): ">= x", "> x", "== x", "<= x",
"< x" and "between [a, b]" (both bounds included) on one indicator of reference/indicators.csv. A NULL (NaN)
indicator value never matches any condition.

Plain Python, no Dagster.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

_NUM = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
_COMPARE = re.compile(rf"^\s*(>=|<=|==|>|<)\s*({_NUM})\s*$")
_BETWEEN = re.compile(rf"^\s*between\s*\[\s*({_NUM})\s*,\s*({_NUM})\s*\]\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Condition:
    """One indicator condition, e.g. `penalties_12m >= 1` (指标条件)."""

    indicator: str
    op: str  # >=, >, ==, <=, <, between
    low: float  # the threshold; the lower bound for between
    high: float  # the upper bound for between; equal to low otherwise

    @property
    def text(self) -> str:
        if self.op == "between":
            return f"{self.indicator} between [{self.low:g}, {self.high:g}]"
        return f"{self.indicator} {self.op} {self.low:g}"

    def mask(self, values: np.ndarray) -> np.ndarray:
        """Rows where the condition holds; comparisons with NaN are False, so NULL never matches."""
        with np.errstate(invalid="ignore"):
            if self.op == ">=":
                return values >= self.low
            if self.op == ">":
                return values > self.low
            if self.op == "==":
                return values == self.low
            if self.op == "<=":
                return values <= self.low
            if self.op == "<":
                return values < self.low
            return (values >= self.low) & (values <= self.high)


def parse_condition(indicator: Any, condition: Any, catalogue: Mapping[str, Any]) -> Condition:
    """Parse and validate one condition; ValueError says what is wrong (the caller names the field)."""
    if not isinstance(indicator, str) or indicator not in catalogue:
        raise ValueError(f"unknown indicator {indicator!r} (not in reference/indicators.csv)")
    if not isinstance(condition, str):
        raise ValueError(f"condition must be a string such as '>= 1', got {condition!r}")
    if m := _COMPARE.match(condition):
        value = float(m.group(2))
        return Condition(indicator, m.group(1), value, value)
    if m := _BETWEEN.match(condition):
        low, high = float(m.group(1)), float(m.group(2))
        if low > high:
            raise ValueError(f"condition {condition!r} has a lower bound above the upper bound")
        return Condition(indicator, "between", low, high)
    raise ValueError(
        f"bad condition {condition!r} for {indicator}; use '>= x', '> x', '== x', '<= x', '< x' or 'between [a, b]'"
    )
