"""config/monitoring.yaml (监测策略): month-over-month feature drift, and model monitoring against a reference month.

MonitoringFile validates the file; MonitoringPolicy is what lib/monitoring/ reads for model monitoring, and
FeatureDrift is the drift check's section as it stands.

Plain Python, no Dagster.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, model_validator

from zs_risk_pipeline.lib.core.month import Month
from zs_risk_pipeline.lib.policy.base import FieldError, StrictModel, in_range, indicator_catalogue, unique

TIERS = ("A", "B", "C", "D")
REFERENCE_POLICIES = ("serving_model", "pinned")
SCORE_COLUMNS = ("points", "score", "probability")
STRATA = ("town_no", "reference_tier")


@dataclass(frozen=True)
class MonitoringPolicy:
    reference: str  # serving_model | pinned
    pinned_month: dt.date | None
    score_column: str
    key_indicators: tuple[str, ...]
    bins: int
    moderate: float
    significant: float
    level: float  # of the χ² critical value for small strata
    strata: tuple[str, ...]
    window_months: int
    min_inspections: int
    z: float


Bins = Annotated[int, in_range(2, 100, integer=True)]
Psi = Annotated[float, in_range(0, 10, open_lo=True)]


def _month(value: str | None) -> str | None:
    if value is not None and not Month.is_label(value):
        raise ValueError(f"must be 'YYYY-MM' or null, got {value!r}")
    return value


def _indicators(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise ValueError(f"must be a non-empty list of indicator names, got {value!r}")
    catalogue = indicator_catalogue()
    missing = [i for i in value if i not in catalogue]
    if missing:
        raise ValueError(f"{missing} not in reference/indicators.csv")
    unique(value, "an indicator")
    return tuple(value)


def _strata(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or any(s not in STRATA for s in value):
        raise ValueError(f"must be a list drawn from {list(STRATA)}, got {value!r}")
    return tuple(dict.fromkeys(value))


class _Thresholds(StrictModel):
    bins: Bins
    moderate: Psi
    significant: Psi

    @model_validator(mode="after")
    def _ordered(self) -> _Thresholds:
        if self.significant < self.moderate:
            raise FieldError("significant", f"({self.significant}) must not be below moderate ({self.moderate})")
        return self


class FeatureDrift(_Thresholds):
    """Month-over-month PSI of every indicator against the previous month (the drift check warns)."""


class Reference(StrictModel):
    policy: Literal["serving_model", "pinned"]
    month: Annotated[str | None, AfterValidator(_month)] = None

    @model_validator(mode="after")
    def _pinned_has_a_month(self) -> Reference:
        if self.policy == "pinned" and self.month is None:
            raise FieldError("month", "is required when reference.policy is 'pinned'")
        return self


class SmallStrata(StrictModel):
    level: Annotated[float, in_range(0, 0.999999, open_lo=True)]
    strata: Annotated[tuple[str, ...], BeforeValidator(_strata)]


class Results(StrictModel):
    window_months: Annotated[int, in_range(1, 36, integer=True)]
    min_inspections: Annotated[int, in_range(2, 1_000_000, integer=True)]
    z: Annotated[float, in_range(0, 10, open_lo=True)]


class ModelMonitoring(_Thresholds):
    reference: Reference
    score_column: Literal["points", "score", "probability"]
    key_indicators: Annotated[tuple[str, ...], BeforeValidator(_indicators)]
    small_strata: SmallStrata
    results: Results

    def build(self) -> MonitoringPolicy:
        month = self.reference.month
        return MonitoringPolicy(
            reference=self.reference.policy,
            pinned_month=dt.date(int(month[:4]), int(month[5:7]), 1) if month else None,
            score_column=self.score_column,
            key_indicators=self.key_indicators,
            bins=self.bins,
            moderate=float(self.moderate),
            significant=float(self.significant),
            level=float(self.small_strata.level),
            strata=self.small_strata.strata,
            window_months=self.results.window_months,
            min_inspections=self.results.min_inspections,
            z=float(self.results.z),
        )


class MonitoringFile(StrictModel):
    """config/monitoring.yaml as written."""

    feature_drift: FeatureDrift
    model_monitoring: ModelMonitoring
