"""Materialisation metadata shared by the assets: row counts, column schema, preview (元数据)."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import duckdb

from zs_risk_pipeline.lib.sql import render, run_sql


def table_metadata(
    conn: duckdb.DuckDBPyConnection, schema: str, table: str, month: dt.date, month_column: str
) -> dict[str, object]:
    """Schema and comment of the table, row count and a preview of one month's slice."""
    ident = {"schema": schema, "table": table, "month_column": month_column}
    cols = run_sql(conn, "meta/columns.sql", {"schema": schema, "table": table})
    n = run_sql(conn, "meta/partition_rows.sql", {"month": month}, ident)[0][0]
    head = conn.sql(render("meta/partition_preview.sql", ident), params={"month": month}).df()
    md: dict[str, object] = {
        "dagster/table_name": f"{schema}.{table}",
        "dagster/partition_row_count": dg.MetadataValue.int(int(n)),
        "dagster/column_schema": dg.MetadataValue.table_schema(
            dg.TableSchema(
                columns=[
                    dg.TableColumn(name=c, type=t, constraints=dg.TableColumnConstraints(nullable=nl == "YES"))
                    for c, t, nl, _ in cols
                ]
            )
        ),
        "preview": dg.MetadataValue.md(head.to_markdown(index=False) if len(head) else "_no rows this month_"),
    }
    if cols and cols[0][3]:
        md["table_comment"] = cols[0][3]
    return md
