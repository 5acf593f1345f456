"""The mart's reporting tables (集市报表): what analysts ask for beside features, tiers and warnings.

Each is written per month into the warehouse's `reporting` schema, audited by one blocking SQL check whose
verdict is bound to the rows it saw, and published by lib/publish/wap.py like every mart table (write, audit,
publish): the enterprise dimension (企业基本信息, registry state at month end, nothing personal), the inspection
results by delivery month with their plan and trigger, and the tasks of the plans zs-risk drew from the month's
tiers (no seeds, no draw order, no inspectors).
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from zs_risk_pipeline.lib.core.month import Month
from zs_risk_pipeline.lib.core.sql import run_sql


@dataclass(frozen=True)
class ReportingTable:
    name: str  # reporting.<name> in the warehouse, and the mart view of the same name
    build_sql: str
    check_sql: str
    check_name: str  # the blocking check the publish requires (MartTable.required_checks)
    key_columns: tuple[str, str]  # how the check's violation rows read: (key, problem)


TABLES: dict[str, ReportingTable] = {
    t.name: t
    for t in (
        ReportingTable(
            "enterprises",
            "reporting/enterprises.sql",
            "reporting/enterprises_check.sql",
            "enterprises_well_formed",
            ("uscc", "problem"),
        ),
        ReportingTable(
            "inspection_results",
            "reporting/inspection_results.sql",
            "reporting/inspection_results_check.sql",
            "inspection_results_well_formed",
            ("task_id", "problem"),
        ),
        ReportingTable(
            "inspection_plans",
            "reporting/inspection_plans.sql",
            "reporting/inspection_plans_check.sql",
            "inspection_plans_well_formed",
            ("task", "problem"),
        ),
    )
}


def _params(month: str) -> dict[str, object]:
    return {"month": Month.of(month).start, "month_end": Month.of(month).end}


def build(conn: duckdb.DuckDBPyConnection, name: str, month: str) -> int:
    """(Re)write the month of reporting.<name>; returns its rows."""
    run_sql(conn, TABLES[name].build_sql, _params(month))
    ident = {"schema": "reporting", "table": name, "month_column": "month"}
    return int(run_sql(conn, "meta/partition_rows.sql", {"month": Month.of(month).start}, ident)[0][0])


def violations(conn: duckdb.DuckDBPyConnection, name: str, month: str) -> list[tuple]:
    """The rows that violate the table's blocking check for the month (none: it passes)."""
    return run_sql(conn, TABLES[name].check_sql, _params(month))
