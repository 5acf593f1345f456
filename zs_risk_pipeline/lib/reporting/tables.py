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
from zs_risk_pipeline.lib.core.sql import row_count, run_sql


@dataclass(frozen=True)
class ReportingTable:
    name: str  # reporting.<name> in the warehouse (sql/marts/reporting.<name>.sql), and the mart view of that name
    check_name: str  # the blocking check the publish requires (MartTable.required_checks)
    key_columns: tuple[str, str]  # how the check's violation rows read: (key, problem)


TABLES: dict[str, ReportingTable] = {
    t.name: t
    for t in (
        ReportingTable("enterprises", "enterprises_well_formed", ("uscc", "problem")),
        ReportingTable("inspection_results", "inspection_results_well_formed", ("task_id", "problem")),
        ReportingTable("inspection_plans", "inspection_plans_well_formed", ("task", "problem")),
    )
}


def _params(month: str) -> dict[str, object]:
    return {"month": Month.of(month).start, "month_end": Month.of(month).end}


def build(conn: duckdb.DuckDBPyConnection, name: str, month: str) -> int:
    """(Re)write the month of reporting.<name>; returns its rows."""
    run_sql(conn, f"marts/reporting.{name}.sql")
    run_sql(conn, f"marts/reporting.{name}.sql#replace_month", _params(month))
    return row_count(conn, f"reporting.{name}", Month.of(month).start)


def check_sql(name: str) -> str:
    """The file of the table's blocking check: the violations of a month."""
    return f"checks/reporting.{name}.sql"


def violations(conn: duckdb.DuckDBPyConnection, name: str, month: str) -> list[tuple]:
    """The rows that violate the table's blocking check for the month (none: it passes)."""
    return run_sql(conn, check_sql(name), _params(month))
