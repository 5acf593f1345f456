"""config/hotspots.yaml (高风险区域、高风险行业的研判口径): when a cell of a rollup layer (a town, an industry, a
town × industry) is flagged high-risk or rising, so that among thousands of cells few flag by chance.

HotspotsFile validates the file; HotspotPolicy is what lib/rollups/hotspots.py reads. Probabilities, shares and
factors are written as quoted decimal strings (as the ratios of sampling_plans.yaml), counts as integers; the
statistics work in floats, so build() converts them.

Plain Python, no Dagster.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BeforeValidator, model_validator

from zs_risk_pipeline.lib.policy.base import FieldError, PositiveInt, StrictModel, in_range, one_of

MEASURES = ("cd_share", "problem_rate")  # the share of C+D-tier enterprises; the problem-found rate (1/π)
INFLATE = ("chi_square", "never")
_DECIMAL = re.compile(r"^\d+(\.\d+)?$")


def decimal_in(lo: float, hi: float, *, open_lo: bool = False, open_hi: bool = False) -> Any:
    """A BeforeValidator for a quoted decimal string in [lo, hi] (either end open), as an exact Decimal: a YAML
    float is refused, as a ratio of sampling_plans.yaml is, so that the file reads as the operator wrote it."""
    span = f"{'(' if open_lo else '['}{lo:g}, {hi:g}{')' if open_hi else ']'}"

    def parse(value: Any) -> Decimal:
        if not isinstance(value, str) or not _DECIMAL.match(value):
            hint = " (quote it in YAML so it is not read as a binary float)" if isinstance(value, float) else ""
            raise ValueError(f'must be a decimal string such as "0.05" in {span}, got {value!r}{hint}')
        number = Decimal(value)
        above = number > Decimal(str(lo)) if open_lo else number >= Decimal(str(lo))
        below = number < Decimal(str(hi)) if open_hi else number <= Decimal(str(hi))
        if not (above and below):
            raise ValueError(f"must be in {span}, got {value!r}")
        return number

    return BeforeValidator(parse)


Probability = Annotated[Decimal, decimal_in(0, 1, open_lo=True, open_hi=True)]


@dataclass(frozen=True)
class Eligibility:
    min_n: int  # cells with fewer enterprises (or effective inspections) are not tested
    min_expected: int  # nor cells whose count expected at the city rate, n × p0, is below this


@dataclass(frozen=True)
class Overdispersion:
    winsor: float  # share of z-scores winsorised at each end before φ = mean(z²)
    inflate: str  # chi_square | never
    level: float  # of the χ² test of φ > 1
    min_cells: int  # fewer tested cells: φ is not estimated and the exact limits stand


@dataclass(frozen=True)
class Trend:
    window_months: int
    min_months: int  # months with data in the window, at least
    alpha: float  # false discovery rate of the rising flags (BH across the layer's cells)
    min_increase: float  # fitted relative increase over the window, at least


@dataclass(frozen=True)
class HotspotPolicy:
    """The validated config/hotspots.yaml, as floats."""

    version: int
    alpha: float  # false discovery rate of the high-risk flags (BH across the layer's tested cells)
    eligibility: Mapping[str, Eligibility]  # per measure
    factor: float  # material = the cell's rate above factor × the city rate
    min_exceedance: float  # ... with at least this posterior probability
    max_prior_strength: float  # a + b of the beta prior at most (the guard when cells do not differ)
    overdispersion: Overdispersion
    trend: Trend
    persistence_months: int
    persistence_min_flagged: int


class EligibilityFile(StrictModel):
    min_n: PositiveInt
    min_expected: Annotated[int, in_range(0, 1_000_000, integer=True)]


class SignificanceFile(StrictModel):
    alpha: Probability


class MaterialityFile(StrictModel):
    factor: Annotated[Decimal, decimal_in(1, 10)]
    min_exceedance: Annotated[Decimal, decimal_in(0, 1, open_hi=True)]
    max_prior_strength: PositiveInt


class OverdispersionFile(StrictModel):
    winsor: Annotated[Decimal, decimal_in(0, 0.5, open_hi=True)]
    inflate: Annotated[str, one_of(INFLATE)]
    level: Probability
    min_cells: Annotated[int, in_range(3, 1_000_000, integer=True)]


class FunnelFile(StrictModel):
    overdispersion: OverdispersionFile


class TrendFile(StrictModel):
    window_months: Annotated[int, in_range(3, 36, integer=True)]
    min_months: Annotated[int, in_range(3, 36, integer=True)]
    alpha: Probability
    min_increase: Annotated[Decimal, decimal_in(0, 100)]

    @model_validator(mode="after")
    def _window_holds_the_months(self) -> TrendFile:
        if self.min_months > self.window_months:
            raise FieldError("min_months", f"({self.min_months}) must not exceed window_months ({self.window_months})")
        return self


class PersistenceFile(StrictModel):
    months: Annotated[int, in_range(1, 24, integer=True)]
    min_flagged: PositiveInt

    @model_validator(mode="after")
    def _within_the_months(self) -> PersistenceFile:
        if self.min_flagged > self.months:
            raise FieldError("min_flagged", f"({self.min_flagged}) must not exceed months ({self.months})")
        return self


class HotspotsFile(StrictModel):
    """config/hotspots.yaml as written."""

    version: PositiveInt
    significance: SignificanceFile
    eligibility: dict[str, EligibilityFile]
    materiality: MaterialityFile
    funnel: FunnelFile
    trend: TrendFile
    persistence: PersistenceFile

    @model_validator(mode="after")
    def _every_measure(self) -> HotspotsFile:
        unknown = sorted(set(self.eligibility) - set(MEASURES))
        if unknown:
            raise FieldError("eligibility", f"unknown measure(s) {unknown}, expected {list(MEASURES)}")
        missing = [m for m in MEASURES if m not in self.eligibility]
        if missing:
            raise FieldError("eligibility", f"lacks {missing}: every measure needs its own minimum counts")
        return self

    def build(self) -> HotspotPolicy:
        od = self.funnel.overdispersion
        return HotspotPolicy(
            version=self.version,
            alpha=float(self.significance.alpha),
            eligibility={m: Eligibility(e.min_n, e.min_expected) for m, e in self.eligibility.items()},
            factor=float(self.materiality.factor),
            min_exceedance=float(self.materiality.min_exceedance),
            max_prior_strength=float(self.materiality.max_prior_strength),
            overdispersion=Overdispersion(
                winsor=float(od.winsor), inflate=od.inflate, level=float(od.level), min_cells=od.min_cells
            ),
            trend=Trend(
                window_months=self.trend.window_months,
                min_months=self.trend.min_months,
                alpha=float(self.trend.alpha),
                min_increase=float(self.trend.min_increase),
            ),
            persistence_months=self.persistence.months,
            persistence_min_flagged=self.persistence.min_flagged,
        )
