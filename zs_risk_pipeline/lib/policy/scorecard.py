"""config/scorecard.yaml (冷启动评分卡): the cold-start points scorecard, checked against the indicator catalogue.

ScorecardFile validates the file; `build(digest)` gives the Scorecard that scores (lib/model/scorecard.py).

Plain Python, no Dagster.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from pydantic import AfterValidator, Field, model_validator

from zs_risk_pipeline.lib.policy.base import (
    FieldError,
    PositiveInt,
    StrictModel,
    Text,
    in_range,
    indicator_catalogue,
)
from zs_risk_pipeline.lib.policy.conditions import Condition, parse_condition

if TYPE_CHECKING:
    from zs_risk_pipeline.lib.model.scorecard import Scorecard


def _non_negative(value: int) -> int:
    if value < 0:
        raise ValueError(f"must be a non-negative integer, got {value!r}")
    return value


Positive = Annotated[float, in_range(0, float("inf"), open_lo=True, open_hi=True)]


class RuleFile(StrictModel):
    """One rule: points added when the indicator's condition holds."""

    indicator: str
    condition: str
    points: float
    reason_en: Text
    reason_zh: Text

    @model_validator(mode="after")
    def _parses(self) -> RuleFile:
        try:
            parse_condition(self.indicator, self.condition, indicator_catalogue())
        except ValueError as e:
            raise FieldError("indicator" if str(e).startswith("unknown indicator") else "condition", str(e)) from None
        return self

    @property
    def parsed(self) -> Condition:
        return parse_condition(self.indicator, self.condition, indicator_catalogue())


class ColdStart(StrictModel):
    min_labels: Annotated[int, AfterValidator(_non_negative)]


class Scaling(StrictModel):
    pdo: Positive
    ref_points: float
    ref_odds: Positive


class ScorecardFile(StrictModel):
    """config/scorecard.yaml as written."""

    version: PositiveInt
    base: float
    cold_start: ColdStart
    scaling: Scaling
    rules: Annotated[list[RuleFile], Field(min_length=1)]

    @model_validator(mode="after")
    def _no_repeated_condition(self) -> ScorecardFile:
        # The same condition twice is almost surely a copy-paste slip: it would double-count silently.
        seen: dict[str, int] = {}
        for i, rule in enumerate(self.rules):
            text = rule.parsed.text
            if text in seen:
                raise FieldError(("rules", i), f"repeats the condition {text!r} of rule {seen[text] + 1}")
            seen[text] = i
        return self

    def build(self, digest: str) -> Scorecard:
        """The Scorecard; `digest` (12 hex digits of the file's SHA-256) names its version."""
        from zs_risk_pipeline.lib.model.scorecard import Rule, Scorecard  # the scoring module reads this policy

        catalogue = indicator_catalogue()
        rules = tuple(
            Rule(
                condition=r.parsed,
                points=float(r.points),
                reason_en=r.reason_en,
                reason_zh=r.reason_zh,
                name_zh=catalogue[r.indicator].name_zh,
            )
            for r in self.rules
        )
        return Scorecard(
            version=self.version,
            base=float(self.base),
            rules=rules,
            min_labels=self.cold_start.min_labels,
            pdo=float(self.scaling.pdo),
            ref_points=float(self.scaling.ref_points),
            ref_odds=float(self.scaling.ref_odds),
            digest=digest,
        )
