"""config/tier_policy.yaml (信用风险分类等级规则): how risk scores become tiers A/B/C/D.

TierPolicyFile validates the file; TierPolicy (with its ordered Overrides) is what lib/tiers/ applies.

Plain Python, no Dagster.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, model_validator

from zs_risk_pipeline.lib.policy.base import (
    FieldError,
    PositiveInt,
    StrictModel,
    Text,
    in_range,
    indicator_catalogue,
    none_as,
)
from zs_risk_pipeline.lib.policy.conditions import Condition, parse_condition

TIERS = ("A", "B", "C", "D")  # safest first: a tier's position is its risk rank
METHODS = ("target_shares", "cutoffs")
ACTIONS = ("set", "at_least", "at_most")


@dataclass(frozen=True)
class Override:
    """One hard override: when all conditions hold, the tier is set, raised or capped (强制调整)."""

    name: str
    when: tuple[Condition, ...]
    action: str  # set | at_least | at_most
    tier: str
    reason_en: str
    reason_zh: str


@dataclass(frozen=True)
class TierPolicy:
    """The validated tier policy of config/tier_policy.yaml."""

    version: int
    method: str
    target_shares: dict[str, float]
    cutoffs: dict[str, float]  # lowest score of B, C and D
    share_tolerance: float
    overrides: tuple[Override, ...]


def _conditions(value: Any) -> tuple[Condition, ...]:
    """`when`: one {indicator, condition} or a non-empty list of them, all of which must hold."""
    when = value if isinstance(value, list) else [value]
    if not when or not all(isinstance(c, dict) and set(c) == {"indicator", "condition"} for c in when):
        raise ValueError(f"must be {{indicator, condition}} or a non-empty list of them, got {value!r}")
    catalogue = indicator_catalogue()
    out = []
    for i, c in enumerate(when, start=1):
        try:
            out.append(parse_condition(c["indicator"], c["condition"], catalogue))
        except ValueError as e:
            raise ValueError(f"condition {i}: {e}" if len(when) > 1 else str(e)) from None
    return tuple(out)


class OverrideFile(StrictModel):
    name: Text
    when: Annotated[tuple[Condition, ...], BeforeValidator(_conditions)]
    action: Literal["set", "at_least", "at_most"]
    tier: Literal["A", "B", "C", "D"]
    reason_en: Text
    reason_zh: Text

    def build(self) -> Override:
        return Override(self.name, self.when, self.action, self.tier, self.reason_en, self.reason_zh)


class Shares(StrictModel):
    A: float
    B: float
    C: float
    D: float


class Cutoffs(StrictModel):
    B: float
    C: float
    D: float


class TierPolicyFile(StrictModel):
    """config/tier_policy.yaml as written."""

    version: PositiveInt
    method: Literal["target_shares", "cutoffs"]
    target_shares: Shares
    cutoffs: Cutoffs
    share_tolerance: Annotated[float, in_range(0, 1)]
    overrides: Annotated[list[OverrideFile], none_as([])] = Field(default_factory=list)

    @model_validator(mode="after")
    def _rules(self) -> TierPolicyFile:
        shares = self.target_shares.model_dump()
        if any(v < 0 for v in shares.values()) or not math.isclose(sum(shares.values()), 1.0, abs_tol=1e-9):
            raise FieldError("target_shares", f"must be non-negative and sum to 1, got {shares}")
        cut = self.cutoffs
        if not cut.B <= cut.C <= cut.D:
            raise FieldError("cutoffs", f"must not decrease from B to D, got {cut.model_dump()}")
        names = [o.name for o in self.overrides]
        if len(set(names)) != len(names):
            raise FieldError("overrides", f"names must be unique, got {names}")
        return self

    def build(self) -> TierPolicy:
        return TierPolicy(
            version=self.version,
            method=self.method,
            target_shares={t: float(v) for t, v in self.target_shares.model_dump().items()},
            cutoffs={t: float(v) for t, v in self.cutoffs.model_dump().items()},
            share_tolerance=float(self.share_tolerance),
            overrides=tuple(o.build() for o in self.overrides),
        )
