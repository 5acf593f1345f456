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
  sampling.frame (sql/sampling/), with the stratum (= tier), its per-draw rate, N_h, n_h and the inclusion
  probability π = n_h / N_h of draw protocol v1 (lib/sampling/protocol.py). Replace-month semantics: a rerun of the
  month gives the same rows.

Plain Python, no Dagster; the frame itself is set-based SQL.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import yaml

from zs_risk_pipeline.lib.core import resources
from zs_risk_pipeline.lib.core.sql import run_sql
from zs_risk_pipeline.lib.ingest.contract import REFERENCE_DIR, sources
from zs_risk_pipeline.lib.ingest.staging import month_end, month_start
from zs_risk_pipeline.lib.policy import versions
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
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])(-01)?$")


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


# ---------------------------------------------------------------------------------------------------------
# Loading and validation


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


# ---------------------------------------------------------------------------------------------------------
# What a plan draws in a month


def _tier_month(month: str | dt.date) -> dt.date:
    if isinstance(month, dt.date):
        if month.day != 1:
            raise ValueError(f"month must be the first day of a month, got {month}")
        return month
    if not isinstance(month, str) or not _MONTH.match(month):
        raise ValueError(f"month must be 'YYYY-MM' or 'YYYY-MM-01', got {month!r}")
    return month_start(month)


def plan_month(month: str | dt.date) -> dt.date:
    """The month M+1 in which the plan drawn from the tiers of month M is carried out (its first day)."""
    m = _tier_month(month)
    return dt.date(m.year + (m.month == 12), m.month % 12 + 1, 1)


def plan_id(plan: SamplingPlan, month: str | dt.date) -> str:
    """The plan_id of the plan drawn from the tiers of month M: "<prefix>-<YYYY-MM of M+1>"."""
    return f"{plan.id}-{plan_month(month):%Y-%m}"


def plans_active(plans: Sequence[SamplingPlan], month: str | dt.date) -> list[SamplingPlan]:
    """The plans that draw from the tiers of month M (their months include the calendar month of M+1)."""
    calendar_month = plan_month(month).month
    return [p for p in plans if calendar_month in p.months]


def _decimal_text(value: Decimal) -> str:
    """Plain decimal notation without trailing zeros ("0.05", "1", "0"), as draw.parse_rate accepts."""
    text = format(value.normalize(), "f")
    return "0" if Decimal(text) == 0 else text


def per_draw_rate(plan: SamplingPlan, tier: str, month: str | dt.date) -> str:
    """The rate of `tier` in the plan drawn from the tiers of month M, as a decimal string ("0" = not drawn).

    An enterprise drawn once is out of the plan's frame for the rest of the calendar year, so batch i of the
    tier's k months draws ratio / (k − (i − 1) × ratio) of the frame left by the i − 1 batches before it: over
    the year that is the annual ratio of a steady population ("0.20" over 4 batches: 0.05 of the full frame,
    then 0.05 / 0.95 of the rest, ...). Splitting the ratio evenly (ratio / k every batch) would fall short,
    badly so for key items: "1" over 4 batches would reach 68 %, not 100 %. Computed in exact decimal
    arithmetic, then rounded up to RATE_PLACES decimals so a batch never draws less than its quota.
    """
    if tier not in TIERS:
        raise ValueError(f"tier {tier!r} not in {list(TIERS)}")
    rule = plan.tiers.get(tier)
    calendar_month = plan_month(month).month
    if rule is None or calendar_month not in rule.months:
        return "0"
    batches = len(rule.months)
    before = rule.months.index(calendar_month)  # batches of this tier earlier in the calendar year
    ratio = Decimal(rule.ratio)
    with decimal.localcontext() as ctx:
        ctx.prec = 40
        rate = ratio / (batches - before * ratio)  # denominator ≥ 1: before ≤ batches − 1 and ratio ≤ 1
        rate = rate.quantize(Decimal(1).scaleb(-RATE_PLACES), rounding=decimal.ROUND_CEILING)
    return _decimal_text(min(rate, Decimal(1)))


def frame_rates(plan: SamplingPlan, month: str | dt.date) -> dict[str, str]:
    """Per-draw rate of every stratum (tier) the plan draws in the month; tiers not drawn are left out."""
    rates = {t: per_draw_rate(plan, t, month) for t in TIERS}
    return {t: r for t, r in rates.items() if Decimal(r) > 0}


# ---------------------------------------------------------------------------------------------------------
# The frame


def _prior_plans_view(conn: duckdb.DuckDBPyConnection) -> None:
    """_sampling_prior(plan_id, uscc): the enterprises of our own earlier draws, once sampling.plan exists."""
    exists = run_sql(conn, "meta/table_exists.sql", {"schema": "sampling", "table": "plan"})[0][0]
    if not exists:
        run_sql(conn, "sampling/prior_plans_none.sql")
        return
    columns = {r[0] for r in run_sql(conn, "meta/columns.sql", {"schema": "sampling", "table": "plan"})}
    if not {"plan_id", "uscc"} <= columns:
        # Never silently skip it: without it an enterprise could be drawn twice for a plan in one year.
        raise RuntimeError(f"sampling.plan lacks plan_id or uscc (has {sorted(columns)}): cannot exclude earlier draws")
    run_sql(conn, "sampling/prior_plans.sql")


def frame_params(plan: SamplingPlan, month: str | dt.date) -> dict[str, Any]:
    """Named parameters of sql/sampling/frame.sql for the plan and tier month M."""
    m = _tier_month(month)
    pm = plan_month(m)
    return {
        "month": m,
        "month_end": month_end(m.isoformat()),
        "tiers": list(frame_rates(plan, m)),
        "industries": list(plan.scope.industries),
        "licence_domains": list(plan.scope.licence_domains),
        "towns": list(plan.scope.towns),
        "year_prefix": f"{plan.id}-{pm.year:04d}-",
        "plan_month_no": pm.month,
    }


def _published_frame(
    conn: duckdb.DuckDBPyConnection, folder: Path, m: dt.date
) -> tuple[dict[str, dict[str, Any]], str | None]:
    """_sampling_frame_rows from a published plan's package; its strata (N, rate, n) and the policy version it
    was drawn under from plan.json."""
    doc = json.loads((folder / protocol.PLAN_FILE).read_text(encoding="utf-8"))
    with (folder / protocol.FRAME_FILE).open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    package = pd.DataFrame(rows[1:], columns=rows[0], dtype=object)
    conn.register("_frame_package", package)
    try:
        run_sql(conn, "sampling/frame_published.sql", {"month": m, "month_end": month_end(m.isoformat())})
    finally:
        conn.unregister("_frame_package")
    return doc["strata"], doc.get("policy_version")


def build_frames(
    conn: duckdb.DuckDBPyConnection,
    plans: Sequence[SamplingPlan],
    month: str | dt.date,
    packages_dir: Path | None = None,
) -> dict[str, int]:
    """Write the frames of `plans` for tier month M (inspections in M+1) to sampling.frame; rows per plan id.

    Eligible for a plan: tiered in month M (tiers.enterprise_monthly), 存续/在业 in the registry version known
    at the end of M, in the plan's scope, in a tier the plan draws this month (A-tier left out under 无事不扰),
    and not drawn for the same plan prefix earlier in the calendar year of M+1 (staging.inspections delivered
    by M, and sampling.plan once it exists). N_h per stratum gives n_h by draw.stratum_sizes and π = n_h / N_h.
    A plan already published in `packages_dir` keeps the frame it was drawn from (its package's frame.csv and
    strata): a rerun never re-frames a published plan from later information. The month's base population is
    computed once for all plans. Each plan's rows of the month are deleted and inserted, all plans in one
    transaction: a rerun gives the same rows. A plan that does not draw this month gets an empty frame (0 rows).
    """
    ids = [p.id for p in plans]
    if len(set(ids)) != len(ids):
        raise ValueError(f"plans must be distinct, got {ids}")
    m = _tier_month(month)
    run_sql(conn, "sampling/create.sql")
    _prior_plans_view(conn)
    version = versions.current("sampling").version
    written: dict[str, int] = {}
    try:
        run_sql(conn, "sampling/frame_base.sql", {"month": m, "month_end": month_end(m.isoformat())})
        conn.execute("BEGIN TRANSACTION")
        try:
            for plan in plans:
                pid = plan_id(plan, m)
                folder = Path(packages_dir) / pid if packages_dir is not None else None
                drawn_under = version
                if folder is not None and (folder / protocol.PLAN_FILE).is_file():
                    published, drawn_under = _published_frame(conn, folder, m)
                    strata = sorted(published)
                    rates = {s: published[s]["rate"] for s in strata}
                    counts = {s: int(published[s]["N"]) for s in strata}
                    sizes = {s: int(published[s]["n"]) for s in strata}
                else:
                    rates = frame_rates(plan, m)
                    run_sql(conn, "sampling/frame.sql", frame_params(plan, m))
                    counts = {str(s): int(n) for s, n in run_sql(conn, "sampling/frame_strata.sql")}
                    sizes = protocol.stratum_sizes(counts, rates)
                strata = [s for s in sorted(rates) if counts.get(s, 0) > 0]
                params = {
                    "month": m,
                    "plan_id": pid,
                    "strata": strata,
                    "rates": [rates[s] for s in strata],
                    "frame_sizes": [counts[s] for s in strata],
                    "sample_sizes": [sizes[s] for s in strata],
                    "policy_version": drawn_under,
                }
                written[plan.id] = int(run_sql(conn, "sampling/frame_replace.sql", params)[0][0])
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    finally:
        run_sql(conn, "sampling/frame_drop.sql")
    return written


def build_frame(
    conn: duckdb.DuckDBPyConnection, plan: SamplingPlan, month: str | dt.date, packages_dir: Path | None = None
) -> int:
    """Write one plan's frame for tier month M to sampling.frame (see build_frames); rows written."""
    return build_frames(conn, [plan], month, packages_dir)[plan.id]
