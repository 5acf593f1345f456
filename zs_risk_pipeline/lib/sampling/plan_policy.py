"""Double-random inspection plans (双随机抽查计划) and their monthly sampling frames (抽查对象名录).

- `load_plans(path)` reads and validates config/sampling_plans.yaml: the plans of the member units (成员单位)
  with their inspection items (一般/重点检查事项), scope, per-tier annual ratios as exact decimal strings, draw
  months, 无事不扰 exclusion and workload cap; the legal floor of the publicity-information check
  (≥ 3 % of enterprises a year, 《企业公示信息抽查办法》) is enforced.
- `plan_id(plan, month)`, `plans_active(plans, month)`, `per_draw_rate(plan, tier, month)`,
  `frame_rates(plan, month)`: what a plan draws from the tiers of month M. Every `month` here is the tier
  month M ('YYYY-MM' or 'YYYY-MM-01'); the plan runs in M+1, whose calendar month is matched against the
  configured months and names the plan (MR-GENERAL-2024-04 from the tiers of 2024-03).
- `build_frame(conn, plan, month)` / `build_frames(conn, plans, month)`: the plans' frames for month M in
  sampling.frame (sql/intermediate/sampling.frame.sql), with the stratum (= tier), its per-draw rate, N_h, n_h and
  the inclusion probability π = n_h / N_h of draw protocol v1 (lib/sampling/protocol.py). Replace-month
  semantics: a rerun of the month gives the same rows.

Plain Python, no Dagster; the frame itself is set-based SQL.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from zs_risk_pipeline.lib.core import resources
from zs_risk_pipeline.lib.ingest.contract import REFERENCE_DIR, sources
from zs_risk_pipeline.lib.sampling import protocol

CONFIG_PATH = resources.config_file("sampling_plans.yaml")


TABLE = "sampling.frame"


TIERS = ("A", "B", "C", "D")


# Licence domains as the landing contract defines them (licenses.domain); an inspection item may also be
# "general" (e.g. the publicity-information check), which no licence is.
LICENCE_DOMAINS: tuple[str, ...] = next(c.enum for c in sources()["licenses"].columns if c.name == "domain") or ()


ITEM_DOMAINS = ("general", *LICENCE_DOMAINS)


ITEM_TYPES = ("general", "key")  # 一般检查事项 | 重点检查事项


PUBLICITY_FLOOR = Decimal("0.03")  # 《企业公示信息抽查办法》: at least 3 % of enterprises a year


RATE_PLACES = 6  # per-draw rates are rounded up to this many decimals (never below the annual quota)


_PLAN_KEYS = {"id", "name_zh", "department", "publicity", "items", "scope", "tiers", "months", "exclusions"}


_PLAN_KEYS |= {"workload_cap"}


_REQUIRED_KEYS = {"id", "name_zh", "department", "items", "tiers", "months", "workload_cap"}


_ITEM_KEYS = {"name_zh", "domain", "type"}


_SCOPE_KEYS = {"industries", "licence_domains", "towns"}


_TIER_KEYS = {"ratio", "months"}


_EXCLUSION_KEYS = {"skip_tier_a_routine"}


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


def _text(value: Any, field: str, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{where}: {field} must be a non-empty text, got {value!r}")
    return value.strip()


def _keys(raw: Any, allowed: set[str], required: set[str], where: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ValueError(f"{where}: expected a mapping with keys {sorted(allowed)}, got {raw!r}")
    unknown, missing = sorted(set(raw) - allowed), sorted(required - set(raw))
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {unknown} (allowed: {sorted(allowed)})")
    if missing:
        raise ValueError(f"{where}: missing key(s) {missing}")
    return raw


def _list(raw: Any, field: str, where: str) -> list[Any]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ValueError(f"{where}: {field} must be a list, got {raw!r}")
    return raw


def _months(raw: Any, field: str, where: str) -> tuple[int, ...]:
    if raw == "every":
        return tuple(range(1, 13))
    if (
        not isinstance(raw, list)
        or not raw
        or not all(isinstance(m, int) and not isinstance(m, bool) and 1 <= m <= 12 for m in raw)
    ):
        raise ValueError(f'{where}: {field} must be "every" or a non-empty list of months 1-12, got {raw!r}')
    if len(set(raw)) != len(raw):
        raise ValueError(f"{where}: {field} lists a month twice: {raw!r}")
    return tuple(sorted(raw))


def _item(raw: Any, where: str) -> Item:
    raw = _keys(raw, _ITEM_KEYS, _ITEM_KEYS, where)
    if raw["domain"] not in ITEM_DOMAINS:
        raise ValueError(f"{where}: domain {raw['domain']!r} not in {list(ITEM_DOMAINS)}")
    if raw["type"] not in ITEM_TYPES:
        raise ValueError(f"{where}: type {raw['type']!r} not in {list(ITEM_TYPES)}")
    return Item(_text(raw["name_zh"], "name_zh", where), raw["domain"], raw["type"])


def _industry(code: Any, sections: dict[str, tuple[int, int]], where: str) -> str:
    match = _INDUSTRY.match(code) if isinstance(code, str) else None
    if not match:
        raise ValueError(
            f"{where}: scope industry {code!r} is not a GB/T 4754-2017 prefix such as C, C38, C387 or C3872"
        )
    section, digits = match.group(1), match.group(2)
    if section not in sections:
        raise ValueError(f"{where}: scope industry {code!r}: section {section} is not in industry_sections.csv")
    low, high = sections[section]
    if digits and not low <= int(digits[:2]) <= high:
        raise ValueError(
            f"{where}: scope industry {code!r}: division {digits[:2]} is not in section {section} "
            f"(divisions {low:02d}-{high:02d})"
        )
    return code


def _scope(raw: Any, where: str) -> Scope:
    raw = _keys(raw if raw is not None else {}, _SCOPE_KEYS, set(), f"{where} scope")
    sections = {
        r["section"]: (int(r["division_from"]), int(r["division_to"])) for r in _reference("industry_sections.csv")
    }
    industries = tuple(_industry(c, sections, where) for c in _list(raw.get("industries"), "scope.industries", where))
    domains = _list(raw.get("licence_domains"), "scope.licence_domains", where)
    for d in domains:
        if d not in LICENCE_DOMAINS:
            raise ValueError(f"{where}: scope licence domain {d!r} not in {list(LICENCE_DOMAINS)}")
    towns_ref = _reference("towns.csv")
    by_name = {r["name_zh"]: r["town_code"] for r in towns_ref}
    codes = {r["town_code"] for r in towns_ref}
    towns: list[str] = []
    for t in _list(raw.get("towns"), "scope.towns", where):
        # YAML reads an unquoted 442000105 as an integer: a code either way.
        text = str(t) if isinstance(t, int | str) and not isinstance(t, bool) else None
        code = text if text in codes else by_name.get(text or "")
        if code is None:
            raise ValueError(f"{where}: scope town {t!r} is neither a town code nor a town name of towns.csv")
        towns.append(code)
    for field, values in (("industries", industries), ("licence_domains", domains), ("towns", towns)):
        if len(set(values)) != len(values):
            raise ValueError(f"{where}: scope.{field} lists a value twice: {list(values)}")
    return Scope(industries, tuple(domains), tuple(towns))


def _tier_rule(tier: str, raw: Any, plan_months: tuple[int, ...], where: str) -> TierRule:
    raw = _keys(raw, _TIER_KEYS, {"ratio"}, f"{where} tier {tier}")
    try:
        ratio = protocol.parse_rate(tier, raw["ratio"])
    except ValueError as e:
        raise ValueError(f"{where}: tiers: {e}") from None
    if ratio == 0:
        raise ValueError(f"{where}: tier {tier} ratio must be above 0 (a tier the plan does not draw is omitted)")
    months = plan_months if raw.get("months") is None else _months(raw["months"], f"tiers.{tier}.months", where)
    outside = sorted(set(months) - set(plan_months))
    if outside:
        raise ValueError(f"{where}: tiers.{tier}.months {outside} are not months of the plan {list(plan_months)}")
    return TierRule(raw["ratio"], months)


def _plan(raw: Any, i: int, name: str) -> SamplingPlan:
    label = raw.get("id") if isinstance(raw, dict) else None
    where = f"{name} plan {i} ({label})" if label else f"{name} plan {i}"
    raw = _keys(raw, _PLAN_KEYS, _REQUIRED_KEYS, where)
    prefix = raw["id"]
    if not isinstance(prefix, str) or not _PREFIX.match(prefix):
        raise ValueError(f"{where}: id {prefix!r} must be upper-case words joined by '-', e.g. MR-FOOD")
    department = raw["department"]
    if not isinstance(department, str) or not _DEPARTMENT.match(department):
        raise ValueError(f"{where}: department {department!r} must be a member-unit code such as SCJGJ")
    publicity = raw.get("publicity", False)
    if not isinstance(publicity, bool):
        raise ValueError(f"{where}: publicity must be true or false, got {publicity!r}")
    items = raw["items"]
    if not isinstance(items, list) or not items:
        raise ValueError(f"{where}: items must be a non-empty list of inspection items")
    parsed_items = tuple(_item(it, f"{where} item {j}") for j, it in enumerate(items, start=1))
    scope = _scope(raw.get("scope"), where)
    months = _months(raw["months"], "months", where)

    exclusions = _keys(raw.get("exclusions") or {}, _EXCLUSION_KEYS, set(), f"{where} exclusions")
    skip_a = exclusions.get("skip_tier_a_routine", False)
    if not isinstance(skip_a, bool):
        raise ValueError(f"{where}: exclusions.skip_tier_a_routine must be true or false, got {skip_a!r}")

    tiers_raw = raw["tiers"]
    if not isinstance(tiers_raw, dict):
        raise ValueError(f"{where}: tiers must map the tiers {list(TIERS)} to {{ratio, months}}")
    expected = set(TIERS) - ({"A"} if skip_a else set())
    unknown, missing = sorted(set(tiers_raw) - set(TIERS)), sorted(expected - set(tiers_raw))
    if unknown:
        raise ValueError(f"{where}: tiers has unknown tier(s) {unknown}, expected {list(TIERS)}")
    if skip_a and "A" in tiers_raw:
        raise ValueError(f"{where}: tiers lists A although exclusions.skip_tier_a_routine (无事不扰) leaves A-tier out")
    if missing:
        raise ValueError(f"{where}: tiers lacks tier(s) {missing}")
    tiers = {t: _tier_rule(t, tiers_raw[t], months, where) for t in TIERS if t in tiers_raw}
    idle = [m for m in months if not any(m in rule.months for rule in tiers.values())]
    if idle:
        raise ValueError(f"{where}: no tier is drawn in plan month(s) {idle}")

    if publicity:
        # Stricter than the law (3 % of all enterprises) but true for every tier mix; see the YAML header.
        if not scope.everyone:
            raise ValueError(
                f"{where}: a publicity-information plan must cover every enterprise (empty scope) to keep the "
                f"legal floor of {PUBLICITY_FLOOR} a year"
            )
        if skip_a:
            raise ValueError(
                f"{where}: a publicity-information plan cannot skip A-tier: the legal floor of {PUBLICITY_FLOOR} "
                "a year covers every enterprise"
            )
        low = [t for t, rule in tiers.items() if Decimal(rule.ratio) < PUBLICITY_FLOOR]
        if low:
            raise ValueError(
                f"{where}: annual ratio of tier(s) {low} below the legal floor {PUBLICITY_FLOOR} of the "
                "publicity-information check (《企业公示信息抽查办法》: at least 3 % of enterprises a year)"
            )

    cap = raw["workload_cap"]
    if isinstance(cap, bool) or not isinstance(cap, int) or cap < 1:
        raise ValueError(f"{where}: workload_cap must be a positive integer, got {cap!r}")
    return SamplingPlan(
        id=prefix,
        name_zh=_text(raw["name_zh"], "name_zh", where),
        department=department,
        items=parsed_items,
        scope=scope,
        tiers=tiers,
        months=months,
        publicity=publicity,
        skip_tier_a_routine=skip_a,
        workload_cap=cap,
    )


def load_plans(path: Path | None = None) -> list[SamplingPlan]:
    """Read and validate config/sampling_plans.yaml (or `path`); errors name the file and the plan."""
    path = path or CONFIG_PATH
    name = path.name
    doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(doc, dict):
        raise ValueError(f"{name}: expected a mapping at the top level")
    unknown = sorted(set(doc) - {"version", "plans"})
    if unknown:
        raise ValueError(f"{name}: unknown top-level key(s) {unknown} (allowed: ['plans', 'version'])")
    version = doc.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ValueError(f"{name}: version must be a positive integer, got {version!r}")
    raw_plans = doc.get("plans")
    if not isinstance(raw_plans, list) or not raw_plans:
        raise ValueError(f"{name}: plans must be a non-empty list")
    plans = [_plan(raw, i, name) for i, raw in enumerate(raw_plans, start=1)]
    ids = [p.id for p in plans]
    repeated = sorted({x for x in ids if ids.count(x) > 1})
    if repeated:
        raise ValueError(f"{name}: plan id(s) {repeated} appear more than once")
    return plans
