"""config/allocation.yaml (动态调整抽查比例和频次): how the monthly proposal of per-plan, per-tier annual ratios is
made - the inspections it may use (budget), how far a ratio may move in a month, the minimum chance of every firm,
the tiers' caps (无事不扰 for A), and how the problem-found rates are estimated so that noise is not chased.

AllocationFile validates the file; AllocationPolicy is what lib/sampling/proposals.py reads.

Plain Python, no Dagster.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BeforeValidator, model_validator

from zs_risk_pipeline.lib.policy.base import FieldError, PositiveInt, StrictModel, in_range, one_of
from zs_risk_pipeline.lib.policy.sampling_plans import PUBLICITY_FLOOR, TIERS
from zs_risk_pipeline.lib.sampling import protocol

BUDGETS = ("current", "capacity")
RATE_METHODS = ("shrinkage", "lower_bound")


@dataclass(frozen=True)
class RateEstimation:
    method: str  # shrinkage | lower_bound
    window_months: int  # random inspections dated in the last window_months months up to M
    min_inspections: int  # a tier with fewer city-wide has no rate: its ratios are held
    prior_inspections: int  # shrinkage: the weight of the tier's city-wide rate, in inspections
    confidence: float  # lower_bound: the two-sided Korn–Graubard interval whose lower end is used


@dataclass(frozen=True)
class AllocationPolicy:
    """The validated config/allocation.yaml; ratios as exact decimals."""

    version: int
    budget: str  # current | capacity
    max_change: Decimal  # per month, either way, in ratio points
    min_ratio: Decimal  # every tier of every plan at least this a year (最低抽查概率)
    tier_caps: Mapping[str, Decimal]  # every tier; 1 where the file sets no cap
    rates: RateEstimation
    frontier_steps: int


def _ratio(value: Any) -> Decimal:
    # The rules of a ratio in sampling_plans.yaml: a quoted decimal string in [0, 1], never a binary float.
    try:
        return protocol.parse_rate("ratio", value)
    except ValueError as e:
        raise ValueError(str(e).removeprefix("stratum 'ratio': ")) from None


Ratio = Annotated[Decimal, BeforeValidator(_ratio)]


class RatesFile(StrictModel):
    method: Annotated[str, one_of(RATE_METHODS)]
    window_months: Annotated[int, in_range(1, 120, integer=True)]
    min_inspections: PositiveInt
    prior_inspections: PositiveInt
    confidence: Annotated[float, in_range(0, 1, open_lo=True, open_hi=True)]


class AllocationFile(StrictModel):
    """config/allocation.yaml as written."""

    version: PositiveInt
    budget: Annotated[str, one_of(BUDGETS)]
    max_change: Ratio
    min_ratio: Ratio
    tier_caps: dict[str, Ratio]
    rates: RatesFile
    frontier_steps: Annotated[int, in_range(2, 50, integer=True)]

    @model_validator(mode="after")
    def _floors_below_caps(self) -> AllocationFile:
        if self.min_ratio == 0:
            # sampling_plans.yaml refuses a ratio of 0: a proposal must stay a valid plan file.
            raise FieldError("min_ratio", "must be above 0 (every firm keeps a chance of being drawn)")
        unknown = sorted(set(self.tier_caps) - set(TIERS))
        if unknown:
            raise FieldError("tier_caps", f"unknown tier(s) {unknown}, expected {list(TIERS)}")
        for tier, cap in self.tier_caps.items():
            if cap < self.min_ratio:
                raise FieldError(("tier_caps", tier), f"{cap} is below min_ratio {self.min_ratio}")
            if cap < PUBLICITY_FLOOR:
                raise FieldError(
                    ("tier_caps", tier),
                    f"{cap} is below the legal floor {PUBLICITY_FLOOR} of the publicity-information plan, which "
                    "draws every tier (《企业公示信息抽查办法》)",
                )
        return self

    def build(self) -> AllocationPolicy:
        return AllocationPolicy(
            version=self.version,
            budget=self.budget,
            max_change=self.max_change,
            min_ratio=self.min_ratio,
            tier_caps={t: self.tier_caps.get(t, Decimal(1)) for t in TIERS},
            rates=RateEstimation(
                method=self.rates.method,
                window_months=self.rates.window_months,
                min_inspections=self.rates.min_inspections,
                prior_inspections=self.rates.prior_inspections,
                confidence=self.rates.confidence,
            ),
            frontier_steps=self.frontier_steps,
        )
