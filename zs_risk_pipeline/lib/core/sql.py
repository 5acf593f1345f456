"""Loading and running the SQL files under sql/ (SQL 文件加载与执行).

Values always travel as DuckDB named parameters ($month). The only text substituted into a file is a
table identifier, and only one that the caller validated against a fixed list.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import duckdb

from zs_risk_pipeline.lib.core import resources

SQL_DIR = resources.sql_dir()
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")


@cache
def load_sql(name: str) -> str:
    path = SQL_DIR / name
    if not path.is_file():
        raise FileNotFoundError(f"SQL file {name} not found under {SQL_DIR}")
    return path.read_text(encoding="utf-8")


def literal(value: str) -> str:
    """A string as an SQL literal, for the few statements DuckDB cannot prepare (COMMENT ON, CREATE VIEW)."""
    return "'" + value.replace("'", "''") + "'"


def render(name: str, identifiers: dict[str, str] | None = None, literals: dict[str, str] | None = None) -> str:
    """The file's text with {identifier} placeholders filled from a validated mapping, and {literal}
    placeholders with quoted, escaped strings."""
    text = load_sql(name)
    for key, value in (identifiers or {}).items():
        if not _IDENTIFIER.match(value):
            raise ValueError(f"refusing to substitute {value!r} as an SQL identifier")
        text = text.replace("{" + key + "}", value)
    for key, value in (literals or {}).items():
        text = text.replace("{" + key + "}", literal(value))
    return text


def run_sql(
    conn: duckdb.DuckDBPyConnection,
    name: str,
    params: dict[str, Any] | None = None,
    identifiers: dict[str, str] | None = None,
    literals: dict[str, str] | None = None,
) -> list[tuple]:
    """Run every statement of a file in order; each gets the parameters it names. Returns the last result."""
    params = params or {}
    rows: list[tuple] = []
    for stmt in duckdb.extract_statements(render(name, identifiers, literals)):
        used = {k: params[k] for k in stmt.named_parameters}
        missing = set(stmt.named_parameters) - set(params)
        if missing:
            raise KeyError(f"{name}: parameters {sorted(missing)} not supplied")
        # Fetch everything: DuckDB refuses new work on a connection with an unfinished result.
        rows = conn.execute(stmt.query, used).fetchall() if used else conn.execute(stmt.query).fetchall()
    return rows


def query(conn: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any] | None = None) -> list[tuple]:
    return conn.execute(sql, params or {}).fetchall()
