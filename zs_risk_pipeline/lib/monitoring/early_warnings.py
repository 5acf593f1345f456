"""Early warnings (风险预警): configurable monthly rules whose findings feed the trigger queue.

- `load_rules(path)` reads and validates config/warning_rules.yaml; a bad file raises WarningRulesError naming
  the file and the field.
- `build_early_warnings(conn, month, rules)` runs every enabled rule's SQL (sql/intermediate/warning_<rule>.sql,
  set-based, point in time: rows delivered by M, events dated by the end of M) and replaces the month in
  monitoring.early_warnings in one transaction. Only enterprises tiered in M (alive at month end) are warned;
  a warning on an A- or B-tier enterprise is marked for the trigger queue (触发式监管).
- `summary_lines(conn, month)` is the demo printout: counts by rule and severity and a few examples, no scores.

Plain Python, no Dagster.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import yaml

from zs_risk_pipeline.lib.core import resources
from zs_risk_pipeline.lib.core.db import transaction
from zs_risk_pipeline.lib.core.month import Month
from zs_risk_pipeline.lib.core.sql import run_sql, table_exists
from zs_risk_pipeline.lib.ingest.contract import REFERENCE_DIR, sources
from zs_risk_pipeline.lib.policy import versions

CONFIG_PATH = resources.config_file("warning_rules.yaml")
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
_RULE_KEYS = {
    "enabled",
    "severity",
    "description_en",
    "description_zh",
    "thresholds",
    "suggested_action",
    "suggested_action_en",
}
_CJK = re.compile(r"[\u4e00-\u9fff]")
_LATIN = re.compile(r"[A-Za-z]")


class WarningRulesError(ValueError):
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


# Threshold validators: value, field path → the value as the SQL expects it (or WarningRulesError).
Check = Callable[[Any, str], Any]


def _int(low: int, high: int) -> Check:
    def check(v: Any, where: str) -> int:
        if isinstance(v, bool) or not isinstance(v, int) or not low <= v <= high:
            raise WarningRulesError(f"{where} must be a whole number from {low} to {high}, got {v!r}")
        return v

    return check


def _positive(v: Any, where: str) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float) or not 0 < v < 1e6:
        raise WarningRulesError(f"{where} must be a positive number, got {v!r}")
    return float(v)


def _subset(allowed: Callable[[], tuple[str, ...]], may_be_empty: bool = False) -> Check:
    def check(v: Any, where: str) -> list[str]:
        known = allowed()
        if not isinstance(v, list) or not all(isinstance(x, str) for x in v) or (not v and not may_be_empty):
            raise WarningRulesError(f"{where} must be a list of {list(known)}, got {v!r}")
        unknown = sorted(set(v) - set(known))
        if unknown:
            raise WarningRulesError(f"{where}: unknown {unknown}; known: {list(known)}")
        return sorted(set(v))

    return check


def _one_of(allowed: tuple[str, ...]) -> Check:
    def check(v: Any, where: str) -> str:
        if v not in allowed:
            raise WarningRulesError(f"{where} must be one of {list(allowed)}, got {v!r}")
        return v

    return check


def _result_codes() -> tuple[str, ...]:
    with open(REFERENCE_DIR / "result_codes.csv", encoding="utf-8") as fh:
        return tuple(row["code"] for row in csv.DictReader(fh))


def _abnormal_reasons() -> tuple[str, ...]:
    column = next(c for c in sources()["abnormal_list"].columns if c.name == "reason_code")
    return column.enum or ()


THRESHOLDS: dict[str, dict[str, Check]] = {
    "tier_jump": {"min_levels": _int(1, 3)},
    "newly_listed": {"lists": _subset(lambda: LISTS)},
    "complaint_spike": {"trailing_months": _int(1, 24), "factor": _positive, "min_count": _int(1, 10_000)},
    "unreachable": {
        "inspection_codes": _subset(_result_codes, may_be_empty=True),
        "abnormal_reasons": _subset(_abnormal_reasons, may_be_empty=True),
    },
    "related_party_contagion": {"tier": _one_of(("B", "C", "D"))},
    "licence_expiring": {"days": _int(0, 366)},
    "registry_changes": {"min_changes": _int(1, 100), "window_months": _int(1, 36)},
}


def _text(raw: dict, key: str, where: str, script: re.Pattern[str], language: str) -> str:
    v = raw[key]
    if not isinstance(v, str) or not v.strip():
        raise WarningRulesError(f"{where}.{key} must be a non-empty text")
    if not script.search(v):
        raise WarningRulesError(f"{where}.{key} must be written in {language}, got {v!r}")
    return v.strip()


def _rule(name: str, raw: Any, where: str) -> Rule:
    if not isinstance(raw, dict):
        raise WarningRulesError(f"{where} must be a mapping with {sorted(_RULE_KEYS)}")
    unknown, missing = sorted(set(raw) - _RULE_KEYS), sorted(_RULE_KEYS - set(raw))
    if missing:
        raise WarningRulesError(f"{where}.{missing[0]} is missing (every rule has {sorted(_RULE_KEYS)})")
    if unknown:
        raise WarningRulesError(f"{where}.{unknown[0]} is not a rule field (known: {sorted(_RULE_KEYS)})")
    if not isinstance(raw["enabled"], bool):
        raise WarningRulesError(f"{where}.enabled must be true or false, got {raw['enabled']!r}")
    if raw["severity"] not in SEVERITIES:
        raise WarningRulesError(f"{where}.severity must be one of {list(SEVERITIES)}, got {raw['severity']!r}")
    spec, given = THRESHOLDS[name], raw["thresholds"]
    if not isinstance(given, dict) or set(given) != set(spec):
        raise WarningRulesError(f"{where}.thresholds must set exactly {sorted(spec)}, got {given!r}")
    thresholds = {k: check(given[k], f"{where}.thresholds.{k}") for k, check in spec.items()}
    if name == "unreachable" and not (thresholds["inspection_codes"] or thresholds["abnormal_reasons"]):
        raise WarningRulesError(f"{where}.thresholds: inspection_codes and abnormal_reasons are both empty")
    return Rule(
        name=name,
        enabled=raw["enabled"],
        severity=raw["severity"],
        thresholds=thresholds,
        suggested_action=_text(raw, "suggested_action", where, _CJK, "Chinese"),
        suggested_action_en=_text(raw, "suggested_action_en", where, _LATIN, "English"),
        description_en=_text(raw, "description_en", where, _LATIN, "English"),
        description_zh=_text(raw, "description_zh", where, _CJK, "Chinese"),
    )


def load_rules(path: Path | None = None) -> dict[str, Rule]:
    """The validated rules of config/warning_rules.yaml, in the fixed rule order."""
    path = path or CONFIG_PATH
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise WarningRulesError(f"{path}: not valid YAML: {e}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("rules"), dict):
        raise WarningRulesError(f"{path}: rules must be a mapping of rule name → rule")
    given = doc["rules"]
    unknown, missing = sorted(set(given) - set(RULES)), [r for r in RULES if r not in given]
    if unknown:
        raise WarningRulesError(f"{path}: rules.{unknown[0]} is not a known rule (known: {list(RULES)})")
    if missing:
        raise WarningRulesError(f"{path}: rules.{missing[0]} is missing (switch a rule off with enabled: false)")
    return {name: _rule(name, given[name], f"{path}: rules.{name}") for name in RULES}


def _month_params(month: str) -> dict[str, dt.date]:
    start = Month.of(month).start
    return {"month": start, "month_end": Month.of(month).end, "prev_month": Month.of(month).previous().start}


def ensure_table(conn: duckdb.DuckDBPyConnection) -> None:
    """monitoring.early_warnings exists (empty until a month is built); readers such as the trigger queue
    may run on a warehouse where no warning was ever built."""
    run_sql(conn, "intermediate/monitoring.early_warnings.sql")


def build_early_warnings(
    conn: duckdb.DuckDBPyConnection, month: str, rules: dict[str, Rule]
) -> dict[tuple[str, str], tuple[int, int]]:
    """Run the enabled rules for tier month M and replace the month in monitoring.early_warnings in one
    transaction. Returns (rule, severity) → (warnings, of which for the trigger queue)."""
    base = _month_params(month)
    with transaction(conn):
        ensure_table(conn)
        run_sql(conn, "intermediate/monitoring.early_warnings.sql#fired")
        for rule in rules.values():
            if rule.enabled:
                params = {
                    **base,
                    **rule.thresholds,
                    "severity": rule.severity,
                    "suggested_action": rule.suggested_action,
                }
                run_sql(conn, f"intermediate/warning_{rule.name}.sql", params)
        version = versions.current("early_warnings").version
        run_sql(conn, "intermediate/monitoring.early_warnings.sql#replace_month", {**base, "policy_version": version})
    return {(rule, severity): (n, queued) for rule, severity, n, queued in counts_by_rule(conn, month)}


def counts_by_rule(conn: duckdb.DuckDBPyConnection, month: str) -> list[tuple[str, str, int, int]]:
    """(rule, severity, warnings, of which for the trigger queue) of a built month, in rule order."""
    rows = run_sql(conn, "intermediate/monitoring.early_warnings.sql#by_rule", {"month": Month.of(month).start})
    order = {r: i for i, r in enumerate(RULES)}
    return sorted(
        ((r, s, int(n), int(q)) for r, s, n, q in rows),
        key=lambda x: (order.get(x[0], len(order)), SEVERITIES.index(x[1]) if x[1] in SEVERITIES else 9),
    )


def counts_by_tier(conn: duckdb.DuckDBPyConnection, month: str) -> dict[str, dict[str, int]]:
    """tier → {"enterprises": firms warned, "warnings": rows} of a built month."""
    rows = run_sql(conn, "intermediate/monitoring.early_warnings.sql#by_tier", {"month": Month.of(month).start})
    return {tier: {"enterprises": int(firms), "warnings": int(n)} for tier, firms, n in rows}


def well_formed_violations(conn: duckdb.DuckDBPyConnection, month: str) -> list[tuple[str, str, str]]:
    """(uscc, rule, problem) for every row of the month that breaks the table's contract: unknown rule or
    severity, evidence not a JSON object, no Chinese evidence or action, a duplicate (month, uscc, rule), an
    enterprise not tiered in M or with another tier than its tier of M, to_trigger_queue other than tier A/B."""
    params = {"month": Month.of(month).start, "rules": list(RULES), "severities": list(SEVERITIES)}
    return [(str(u), str(r), str(p)) for u, r, p in run_sql(conn, "checks/monitoring.early_warnings.sql", params)]


def summary_lines(conn: duckdb.DuckDBPyConnection, month: str, examples: int = 5) -> list[str]:
    """Lines for the demo printout: the month's warnings by rule and severity, how many feed the trigger
    queue, and a few examples (uscc, rule, evidence in Chinese). No scores. Reads only: a read-only
    connection will do, also on a warehouse where no warning was ever built."""
    label = Month.of(month).start.strftime("%Y-%m")
    if not table_exists(conn, "monitoring", "early_warnings"):
        return [f"Early warnings (预警) {label}: none"]
    counts = counts_by_rule(conn, month)
    total = sum(n for *_, n, _ in counts)
    queued = sum(q for *_, q in counts)
    if not total:
        return [f"Early warnings (预警) {label}: none"]
    firms = run_sql(conn, "intermediate/monitoring.early_warnings.sql#queued_firms", {"month": Month.of(month).start})[
        0
    ][0]
    width = max(len(r) for r, *_ in counts)
    lines = [
        f"Early warnings (预警) {label}: {total:,} warnings; {queued:,} on A/B-tier enterprises feed the trigger "
        f"queue (触发式监管, {int(firms):,} enterprises)",
    ]
    lines += [f"  {r:<{width}}  {s:<6}  {n:>7,}  (to trigger queue {q:,})" for r, s, n, q in counts]
    picked = run_sql(
        conn, "intermediate/monitoring.early_warnings.sql#examples", {"month": Month.of(month).start, "n": examples}
    )
    if picked:
        lines.append("  examples (示例):")
        lines += [f"    {uscc}  {rule:<{width}}  {text}" for uscc, rule, text in picked]
    return lines
