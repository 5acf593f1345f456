"""Double-random inspection plans (双随机抽查计划): config/sampling_plans.yaml as SamplingPlans.

- `load_plans()` gives the plans of the policy folder in use, validated by lib/policy/sampling_plans.py: the plans
  of the member units (成员单位) with their inspection items (一般/重点检查事项), scope, per-tier annual ratios as
  exact decimal strings, draw months, 无事不扰 exclusion and workload cap, with the legal floor of the
  publicity-information check (≥ 3 % of enterprises a year, 《企业公示信息抽查办法》); `load_plans(path)` validates
  one file the same way.
- `city_plans(plans)` are the plans that cover the whole city, and `monthly_ratios(plans)` the share of each tier
  they inspect in an average month: the budget at which the promotion gate compares scorers (lib/model/promotion.py).
- What a plan draws from the tiers of a month, and its frames, are in lib/sampling/frames.py.

Plain Python, no Dagster.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

from zs_risk_pipeline.lib.policy import base, folder
from zs_risk_pipeline.lib.policy.sampling_plans import (
    ITEM_DOMAINS,
    ITEM_TYPES,
    LICENCE_DOMAINS,
    PUBLICITY_FLOOR,
    TIERS,
    Item,
    SamplingPlan,
    SamplingPlansFile,
    Scope,
    TierRule,
)

__all__ = [
    "ITEM_DOMAINS",
    "ITEM_TYPES",
    "LICENCE_DOMAINS",
    "PUBLICITY_FLOOR",
    "RATE_PLACES",
    "TABLE",
    "TIERS",
    "Item",
    "SamplingPlan",
    "Scope",
    "TierRule",
    "city_plans",
    "load_plans",
    "monthly_ratios",
]

TABLE = "sampling.frame"
RATE_PLACES = 6  # per-draw rates are rounded up to this many decimals (never below the annual quota)


def load_plans(path: Path | None = None) -> list[SamplingPlan]:
    """The plans of the policy folder in use, or of the file `path` (validated the same way); a new list."""
    if path is None:
        return list(folder.current().sampling_plans)
    return list(base.load_file(SamplingPlansFile, path).build())


def city_plans(plans: Sequence[SamplingPlan]) -> list[SamplingPlan]:
    """The plans that cover every enterprise of the city (empty scope), the publicity-information check among them:
    their per-tier ratios apply to the whole population, whose tiers and problem rates a holdout describes."""
    return [p for p in plans if p.scope.everyone]


def monthly_ratios(plans: Sequence[SamplingPlan]) -> dict[str, float]:
    """The share of each tier's enterprises that `plans` inspect in an average month: Σ annual ratio / 12.

    A tier drawn in k batches takes ratio / (k − (i − 1) × ratio) of what its earlier batches left
    (frames.per_draw_rate): ratio / k of a steady tier in each batch, the annual ratio over the year, whichever
    months the batches fall in. A tier no plan draws is absent."""
    totals: dict[str, Decimal] = {}
    for plan in plans:
        for tier, rule in plan.tiers.items():
            totals[tier] = totals.get(tier, Decimal(0)) + Decimal(rule.ratio)
    return {t: float(totals[t] / 12) for t in TIERS if t in totals}
