"""Recording blocking-check verdicts for write-audit-publish (审计记录), shared by every audited table."""

import dagster as dg
import duckdb

from zs_risk_pipeline.lib import features, publish, quality


def fingerprint(conn: duckdb.DuckDBPyConnection, spec: publish.MartTable, month: str) -> publish.Fingerprint:
    publish.prepare(conn)
    return publish.fingerprint(conn, spec, month)


def audited(
    conn: duckdb.DuckDBPyConnection,
    spec: publish.MartTable,
    month: str,
    fp: publish.Fingerprint,
    gate: quality.GateResult,
    detail: dict,
) -> dg.AssetCheckResult:
    """Record a blocking check's verdict bound to the rows it saw (the publish reads it), and report it."""
    publish.record_audit(conn, spec, month, gate.name, fp, gate.passed, detail)
    return dg.AssetCheckResult(passed=gate.passed, metadata={**detail, "fingerprint": fp.sha256})


def alive_row_count(
    conn: duckdb.DuckDBPyConnection, spec: publish.MartTable, month: str, name: str
) -> dg.AssetCheckResult:
    """One row per enterprise in scope alive at month end, counted independently from the staged registry."""
    fp = fingerprint(conn, spec, month)
    alive = features.alive_count(conn, month)
    violations = [] if fp.rows == alive else [(fp.rows, alive)]
    result = quality.sql_gate(name, violations, ["table_rows", "alive"], "row_count")
    return audited(conn, spec, month, fp, result, {**result.metadata(), "table_rows": fp.rows, "alive": alive})
