"""Early warnings (风险预警): configurable monthly rules whose findings feed the trigger queue.

- `load_rules()` gives the rules of config/warning_rules.yaml in the policy folder in use (validated by
  lib/policy/warning_rules.py; a bad file raises WarningRulesError naming the file and the field); `load_rules(path)`
  validates one file the same way.
- `build_early_warnings(conn, month, rules)` runs every enabled rule's SQL (sql/intermediate/warning_<rule>.sql,
  set-based, point in time: rows delivered by M, events dated by the end of M) and replaces the month in
  monitoring.early_warnings in one transaction. Only enterprises tiered in M (alive at month end) are warned;
  a warning on an A- or B-tier enterprise is marked for the trigger queue (触发式监管).
- `summary_lines(conn, month)` is the demo printout: counts by rule and severity and a few examples, no scores.

Plain Python, no Dagster.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

from zs_risk_pipeline.lib.core.db import transaction
from zs_risk_pipeline.lib.core.month import Month
from zs_risk_pipeline.lib.core.sql import run_sql, table_exists
from zs_risk_pipeline.lib.policy import base, folder, versions
from zs_risk_pipeline.lib.policy.warning_rules import (
    LISTS,
    RULES,
    SEVERITIES,
    Rule,
    WarningRulesError,
    WarningRulesFile,
)

__all__ = [
    "LISTS",
    "RULES",
    "SEVERITIES",
    "Rule",
    "WarningRulesError",
    "build_early_warnings",
    "counts_by_rule",
    "counts_by_tier",
    "ensure_table",
    "load_rules",
    "summary_lines",
    "well_formed_violations",
]


def load_rules(path: Path | None = None) -> dict[str, Rule]:
    """The rules of the policy folder in use (or of the file `path`, validated the same way), in the fixed rule
    order; a new dict, which the caller may change."""
    if path is None:
        return dict(folder.current().warning_rules)
    return base.load_file(WarningRulesFile, path).build()


def _month_params(month: str) -> dict[str, dt.date]:
    start = Month.of(month).start
    return {"month": start, "month_end": Month.of(month).end, "prev_month": Month.of(month).previous().start}


def ensure_table(conn: duckdb.DuckDBPyConnection) -> None:
    """monitoring.early_warnings exists (empty until a month is built); readers such as the trigger queue
    may run on a warehouse where no warning was ever built."""
    run_sql(conn, "intermediate/monitoring.early_warnings.sql")


def build_early_warnings(
    conn: duckdb.DuckDBPyConnection, month: str, rules: dict[str, Rule], policy: folder.Policy | None = None
) -> dict[tuple[str, str], tuple[int, int]]:
    """Run the enabled rules for tier month M and replace the month in monitoring.early_warnings in one
    transaction; the rows record the policy version of `policy` (default: the folder in use). Returns
    (rule, severity) → (warnings, of which for the trigger queue)."""
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
        version = versions.current("early_warnings", policy).version
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
