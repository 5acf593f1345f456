"""config/warning_rules.yaml (预警规则): the seven early-warning rules, each with its own thresholds.

WarningRulesFile validates the file (an error is a WarningRulesError naming the file and the field); Rule is one
rule as lib/monitoring/early_warnings.py runs it, with its thresholds as the rule's SQL takes them.

Plain Python, no Dagster.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, model_validator

from zs_risk_pipeline.lib.ingest.contract import REFERENCE_DIR, sources
from zs_risk_pipeline.lib.policy.base import FieldError, PolicyError, PositiveInt, StrictModel, in_range

RULES = (
    "tier_jump",
    "newly_listed",
    "complaint_spike",
    "unreachable",
    "related_party_contagion",
    "licence_expiring",
    "registry_changes",
)
SEVERITIES = ("high", "medium", "low")
LISTS = ("abnormal", "dishonest")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_LATIN = re.compile(r"[A-Za-z]")


class WarningRulesError(PolicyError):
    """config/warning_rules.yaml is not valid; the message names the file and the field."""


@dataclass(frozen=True)
class Rule:
    """One early-warning rule as configured (预警规则)."""

    name: str
    enabled: bool
    severity: str
    thresholds: dict[str, Any]
    suggested_action: str  # Chinese, shown to staff
    suggested_action_en: str
    description_en: str
    description_zh: str


def _written_in(script: re.Pattern[str], language: str) -> AfterValidator:
    def check(value: str) -> str:
        if not value.strip():
            raise ValueError("must be a non-empty text")
        if not script.search(value):
            raise ValueError(f"must be written in {language}, got {value!r}")
        return value.strip()

    return AfterValidator(check)


Chinese = Annotated[str, _written_in(_CJK, "Chinese")]
English = Annotated[str, _written_in(_LATIN, "English")]


def _result_codes() -> tuple[str, ...]:
    with open(REFERENCE_DIR / "result_codes.csv", encoding="utf-8") as fh:
        return tuple(row["code"] for row in csv.DictReader(fh))


def _abnormal_reasons() -> tuple[str, ...]:
    column = next(c for c in sources()["abnormal_list"].columns if c.name == "reason_code")
    return column.enum or ()


def _subset(allowed: Any, may_be_empty: bool = False) -> BeforeValidator:
    """A list of known codes (sorted, once each, as the SQL takes them)."""

    def check(value: Any) -> tuple[str, ...]:
        known = list(allowed() if callable(allowed) else allowed)
        if (
            not isinstance(value, list)
            or not all(isinstance(x, str) for x in value)
            or (not value and not may_be_empty)
        ):
            raise ValueError(f"must be a list of {known}, got {value!r}")
        unknown = sorted(set(value) - set(known))
        if unknown:
            raise ValueError(f"unknown {unknown}; known: {known}")
        return tuple(sorted(set(value)))

    return BeforeValidator(check)


class TierJump(StrictModel):
    min_levels: Annotated[int, in_range(1, 3, integer=True)]


class NewlyListed(StrictModel):
    lists: Annotated[tuple[str, ...], _subset(LISTS)]


class ComplaintSpike(StrictModel):
    trailing_months: Annotated[int, in_range(1, 24, integer=True)]
    factor: Annotated[float, in_range(0, 1e6, open_lo=True, open_hi=True)]
    min_count: Annotated[int, in_range(1, 10_000, integer=True)]


class Unreachable(StrictModel):
    inspection_codes: Annotated[tuple[str, ...], _subset(_result_codes, may_be_empty=True)]
    abnormal_reasons: Annotated[tuple[str, ...], _subset(_abnormal_reasons, may_be_empty=True)]

    @model_validator(mode="after")
    def _something_to_look_for(self) -> Unreachable:
        if not (self.inspection_codes or self.abnormal_reasons):
            raise ValueError("inspection_codes and abnormal_reasons are both empty")
        return self


class RelatedPartyContagion(StrictModel):
    tier: Literal["B", "C", "D"]


class LicenceExpiring(StrictModel):
    days: Annotated[int, in_range(0, 366, integer=True)]


class RegistryChanges(StrictModel):
    min_changes: Annotated[int, in_range(1, 100, integer=True)]
    window_months: Annotated[int, in_range(1, 36, integer=True)]


class _Rule(StrictModel):
    enabled: bool
    severity: Literal["high", "medium", "low"]
    description_en: English
    description_zh: Chinese
    thresholds: StrictModel
    suggested_action: Chinese
    suggested_action_en: English

    def build(self, name: str) -> Rule:
        thresholds = {k: list(v) if isinstance(v, tuple) else v for k, v in self.thresholds.model_dump().items()}
        return Rule(
            name=name,
            enabled=self.enabled,
            severity=self.severity,
            thresholds={k: float(v) if k == "factor" else v for k, v in thresholds.items()},
            suggested_action=self.suggested_action,
            suggested_action_en=self.suggested_action_en,
            description_en=self.description_en,
            description_zh=self.description_zh,
        )


class TierJumpRule(_Rule):
    thresholds: TierJump


class NewlyListedRule(_Rule):
    thresholds: NewlyListed


class ComplaintSpikeRule(_Rule):
    thresholds: ComplaintSpike


class UnreachableRule(_Rule):
    thresholds: Unreachable


class RelatedPartyContagionRule(_Rule):
    thresholds: RelatedPartyContagion


class LicenceExpiringRule(_Rule):
    thresholds: LicenceExpiring


class RegistryChangesRule(_Rule):
    thresholds: RegistryChanges


class Rules(StrictModel):
    tier_jump: TierJumpRule
    newly_listed: NewlyListedRule
    complaint_spike: ComplaintSpikeRule
    unreachable: UnreachableRule
    related_party_contagion: RelatedPartyContagionRule
    licence_expiring: LicenceExpiringRule
    registry_changes: RegistryChangesRule

    @model_validator(mode="before")
    @classmethod
    def _every_rule(cls, data: Any) -> Any:
        if isinstance(data, dict):
            missing = [r for r in RULES if r not in data and set(data) <= set(RULES)]
            if missing:
                raise FieldError(missing[0], "is missing (switch a rule off with enabled: false)")
        return data


class WarningRulesFile(StrictModel):
    """config/warning_rules.yaml as written."""

    error = WarningRulesError
    version: PositiveInt = 1
    rules: Rules

    def build(self) -> dict[str, Rule]:
        """The rules in the fixed rule order."""
        return {name: getattr(self.rules, name).build(name) for name in RULES}
