"""Recording blocking-check verdicts for write-audit-publish (审计记录), shared by every audited table."""

import dagster as dg
import duckdb

from zs_risk_pipeline.lib.features import enterprise_monthly
from zs_risk_pipeline.lib.publish import tables, wap
from zs_risk_pipeline.lib.quality import gates


def fingerprint(conn: duckdb.DuckDBPyConnection, spec: tables.MartTable, month: str) -> tables.Fingerprint:
    tables.prepare(conn)
    return tables.fingerprint(conn, spec, month)


def audited(
    conn: duckdb.DuckDBPyConnection,
    spec: tables.MartTable,
    month: str,
    fp: tables.Fingerprint,
    gate: gates.GateResult,
    detail: dict,
) -> dg.AssetCheckResult:
    """Record a blocking check's verdict bound to the rows it saw (the publish reads it), and report it."""
    wap.record_audit(conn, spec, month, gate.name, fp, gate.passed, detail)
    return dg.AssetCheckResult(passed=gate.passed, metadata={**detail, "fingerprint": fp.sha256})


def alive_row_count(
    conn: duckdb.DuckDBPyConnection, spec: tables.MartTable, month: str, name: str, entity_types: list[str]
) -> dg.AssetCheckResult:
    """One row per enterprise in scope (`entity_types`) alive at month end, counted independently from the staged
    registry."""
    fp = fingerprint(conn, spec, month)
    alive = enterprise_monthly.alive_count(conn, month, entity_types)
    violations = [] if fp.rows == alive else [(fp.rows, alive)]
    result = gates.sql_gate(name, violations, ["table_rows", "alive"], "row_count")
    return audited(conn, spec, month, fp, result, {**result.metadata(), "table_rows": fp.rows, "alive": alive})
