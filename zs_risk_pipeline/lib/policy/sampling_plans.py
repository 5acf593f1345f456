"""config/sampling_plans.yaml (双随机抽查计划): the plans of the member units (成员单位), their inspection items,
scope, per-tier annual ratios as exact decimal strings, draw months, 无事不扰 exclusion and workload cap, with the
legal floor of the publicity-information check (≥ 3 % of enterprises a year, 《企业公示信息抽查办法》).

SamplingPlansFile validates the file; SamplingPlan (with its Items, Scope and TierRules) is what lib/sampling/
draws from.

Plain Python, no Dagster.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, model_validator

from zs_risk_pipeline.lib.ingest.contract import REFERENCE_DIR, sources
from zs_risk_pipeline.lib.policy.base import FieldError, PositiveInt, StrictModel, Text, none_as, one_of, unique
from zs_risk_pipeline.lib.sampling import protocol

TIERS = ("A", "B", "C", "D")
# Licence domains as the landing contract defines them (licenses.domain); an inspection item may also be
# "general" (e.g. the publicity-information check), which no licence is.
LICENCE_DOMAINS: tuple[str, ...] = next(c.enum for c in sources()["licenses"].columns if c.name == "domain") or ()
ITEM_DOMAINS = ("general", *LICENCE_DOMAINS)
ITEM_TYPES = ("general", "key")  # 一般检查事项 | 重点检查事项
PUBLICITY_FLOOR = Decimal("0.03")  # 《企业公示信息抽查办法》: at least 3 % of enterprises a year
# Dash-separated words each starting with a letter: "MR-FOOD-2024-04" splits back unambiguously, and a
# prefix never holds the LIKE wildcards _ or %.
_PREFIX = re.compile(r"^[A-Z][A-Z0-9]*(-[A-Z][A-Z0-9]*)*$")
_DEPARTMENT = re.compile(r"^[A-Z][A-Z0-9]*$")
# GB/T 4754-2017: section letter, then optionally the 2-digit division, 3-digit group or 4-digit class.
_INDUSTRY = re.compile(r"^([A-T])(\d{2}(\d{1,2})?)?$")


@dataclass(frozen=True)
class Item:
    """One inspection item (检查事项) and the enforcement domain an inspector needs for it."""

    name_zh: str
    domain: str  # one of ITEM_DOMAINS
    type: str  # general (一般检查事项) | key (重点检查事项)


@dataclass(frozen=True)
class Scope:
    """Who a plan may draw; an empty tuple is no restriction, and the three combine with AND."""

    industries: tuple[str, ...] = ()  # GB/T 4754 prefixes of the registry's industry_code
    licence_domains: tuple[str, ...] = ()  # holders of a licence of one of these domains valid at month end
    towns: tuple[str, ...] = ()  # 9-digit town/street codes of reference/towns.csv

    @property
    def everyone(self) -> bool:
        return not (self.industries or self.licence_domains or self.towns)


@dataclass(frozen=True)
class TierRule:
    """A tier's annual ratio (exact decimal string) and the calendar months in which it is drawn."""

    ratio: str
    months: tuple[int, ...]


@dataclass(frozen=True)
class SamplingPlan:
    """One validated plan of config/sampling_plans.yaml."""

    id: str  # plan_id prefix
    name_zh: str
    department: str
    items: tuple[Item, ...]
    scope: Scope
    tiers: Mapping[str, TierRule]  # every tier drawn by the plan; A absent under skip_tier_a_routine
    months: tuple[int, ...]  # calendar months of the plan (M+1), ascending
    publicity: bool
    skip_tier_a_routine: bool  # 无事不扰
    workload_cap: int


def _reference(name: str) -> list[dict[str, str]]:
    with (REFERENCE_DIR / name).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def _months(raw: Any) -> tuple[int, ...]:
    if raw == "every":
        return tuple(range(1, 13))
    if (
        not isinstance(raw, list)
        or not raw
        or not all(isinstance(m, int) and not isinstance(m, bool) and 1 <= m <= 12 for m in raw)
    ):
        raise ValueError(f'must be "every" or a non-empty list of months 1-12, got {raw!r}')
    unique(raw, "a month")
    return tuple(sorted(raw))


Months = Annotated[tuple[int, ...], BeforeValidator(_months)]


def _industries(codes: list[str]) -> tuple[str, ...]:
    sections = {
        r["section"]: (int(r["division_from"]), int(r["division_to"])) for r in _reference("industry_sections.csv")
    }
    for code in codes:
        match = _INDUSTRY.match(code)
        if not match:
            raise ValueError(f"{code!r} is not a GB/T 4754-2017 prefix such as C, C38, C387 or C3872")
        section, digits = match.group(1), match.group(2)
        if section not in sections:
            raise ValueError(f"{code!r}: section {section} is not in industry_sections.csv")
        low, high = sections[section]
        if digits and not low <= int(digits[:2]) <= high:
            raise ValueError(
                f"{code!r}: division {digits[:2]} is not in section {section} (divisions {low:02d}-{high:02d})"
            )
    unique(codes, "an industry")
    return tuple(codes)


def _licence_domains(domains: list[str]) -> tuple[str, ...]:
    for d in domains:
        if d not in LICENCE_DOMAINS:
            raise ValueError(f"licence domain {d!r} not in {list(LICENCE_DOMAINS)}")
    unique(domains, "a licence domain")
    return tuple(domains)


def _towns(values: Any) -> tuple[str, ...]:
    if not isinstance(values, list):
        raise ValueError(f"must be a list, got {values!r}")
    towns = _reference("towns.csv")
    by_name = {r["name_zh"]: r["town_code"] for r in towns}
    codes = {r["town_code"] for r in towns}
    out = []
    for t in values:
        # YAML reads an unquoted 442000105 as an integer: a code either way.
        text = str(t) if isinstance(t, int | str) and not isinstance(t, bool) else None
        code = text if text in codes else by_name.get(text or "")
        if code is None:
            raise ValueError(f"{t!r} is neither a town code nor a town name of towns.csv")
        out.append(code)
    unique(out, "a town")
    return tuple(out)


class ScopeFile(StrictModel):
    industries: Annotated[list[str], none_as([]), AfterValidator(_industries)] = Field(default_factory=list)
    licence_domains: Annotated[list[str], none_as([]), AfterValidator(_licence_domains)] = Field(default_factory=list)
    towns: Annotated[tuple[str, ...], none_as([]), BeforeValidator(_towns)] = ()

    def build(self) -> Scope:
        return Scope(tuple(self.industries), tuple(self.licence_domains), self.towns)


def _ratio(value: Any) -> str:
    try:
        ratio = protocol.parse_rate("ratio", value)
    except ValueError as e:
        raise ValueError(str(e).removeprefix("stratum 'ratio': ")) from None
    if ratio == 0:
        raise ValueError("must be above 0 (a tier the plan does not draw is omitted)")
    return value


class TierRuleFile(StrictModel):
    ratio: Annotated[str, BeforeValidator(_ratio)]  # a quoted decimal string: a YAML float is refused
    months: Months | None = None  # default: every month of the plan


class ItemFile(StrictModel):
    name_zh: Text
    domain: Annotated[str, one_of(ITEM_DOMAINS)]
    type: Annotated[str, one_of(ITEM_TYPES)]


class Exclusions(StrictModel):
    skip_tier_a_routine: bool = False  # 无事不扰: A-tier enterprises are left out of this routine plan


def _pattern(pattern: re.Pattern[str], hint: str) -> AfterValidator:
    def check(value: str) -> str:
        if not pattern.match(value):
            raise ValueError(f"{value!r} must be {hint}")
        return value

    return AfterValidator(check)


class PlanFile(StrictModel):
    id: Annotated[str, _pattern(_PREFIX, "upper-case words joined by '-', e.g. MR-FOOD")]
    name_zh: Text
    department: Annotated[str, _pattern(_DEPARTMENT, "a member-unit code such as SCJGJ")]
    publicity: bool = False  # a check of publicly disclosed information: the legal floor applies
    items: Annotated[list[ItemFile], Field(min_length=1)]
    scope: Annotated[ScopeFile, none_as({})] = ScopeFile()
    tiers: dict[str, TierRuleFile]
    months: Months
    exclusions: Annotated[Exclusions, none_as({})] = Exclusions()
    workload_cap: PositiveInt

    @model_validator(mode="after")
    def _tiers_and_floor(self) -> PlanFile:
        skip_a = self.exclusions.skip_tier_a_routine
        unknown = sorted(set(self.tiers) - set(TIERS))
        if unknown:
            raise FieldError("tiers", f"unknown tier(s) {unknown}, expected {list(TIERS)}")
        if skip_a and "A" in self.tiers:
            raise FieldError("tiers", "lists A although exclusions.skip_tier_a_routine (无事不扰) leaves A-tier out")
        missing = sorted(set(TIERS) - ({"A"} if skip_a else set()) - set(self.tiers))
        if missing:
            raise FieldError("tiers", f"lacks tier(s) {missing}")
        for t, rule in self.tiers.items():
            outside = sorted(set(rule.months or ()) - set(self.months))
            if outside:
                raise FieldError(("tiers", t, "months"), f"{outside} are not months of the plan {list(self.months)}")
        drawn = {t: rule.months or self.months for t, rule in self.tiers.items()}
        idle = [m for m in self.months if not any(m in months for months in drawn.values())]
        if idle:
            raise FieldError("months", f"no tier is drawn in plan month(s) {idle}")
        if self.publicity:
            # Stricter than the law (3 % of all enterprises) but true for every tier mix; see the YAML header.
            floor = f"the legal floor of {PUBLICITY_FLOOR} a year"
            if not self.scope.build().everyone:
                raise FieldError("scope", f"a publicity-information plan must cover every enterprise to keep {floor}")
            if skip_a:
                raise FieldError("exclusions", f"a publicity-information plan cannot skip A-tier: {floor} covers all")
            low = [t for t, rule in self.tiers.items() if Decimal(rule.ratio) < PUBLICITY_FLOOR]
            if low:
                raise FieldError(
                    "tiers",
                    f"annual ratio of tier(s) {low} below the legal floor {PUBLICITY_FLOOR} of the publicity-"
                    "information check (《企业公示信息抽查办法》: at least 3 % of enterprises a year)",
                )
        return self

    def build(self) -> SamplingPlan:
        return SamplingPlan(
            id=self.id,
            name_zh=self.name_zh,
            department=self.department,
            items=tuple(Item(i.name_zh, i.domain, i.type) for i in self.items),
            scope=self.scope.build(),
            tiers={
                t: TierRule(self.tiers[t].ratio, self.tiers[t].months or self.months) for t in TIERS if t in self.tiers
            },
            months=self.months,
            publicity=self.publicity,
            skip_tier_a_routine=self.exclusions.skip_tier_a_routine,
            workload_cap=self.workload_cap,
        )


class SamplingPlansFile(StrictModel):
    """config/sampling_plans.yaml as written."""

    version: PositiveInt
    plans: Annotated[list[PlanFile], Field(min_length=1)]

    @model_validator(mode="after")
    def _ids_once(self) -> SamplingPlansFile:
        ids = [p.id for p in self.plans]
        repeated = sorted({x for x in ids if ids.count(x) > 1})
        if repeated:
            raise FieldError("plans", f"plan id(s) {repeated} appear more than once")
        return self

    def build(self) -> tuple[SamplingPlan, ...]:
        return tuple(p.build() for p in self.plans)
