"""Loading and running the SQL files under sql/ (SQL 文件加载与执行), and the plumbing statements built here.

sql/ holds one file per relation, by layer (staging/, intermediate/, marts/), named `<schema>.<relation>.sql`: the
relation's definition first (CREATE … IF NOT EXISTS, the ALTERs older homes need, its comments), then named
sections, each introduced by a line `-- name: <section>`: the steps that fill it and the queries that read it.
"layer/schema.relation.sql" is the definition, "layer/schema.relation.sql#section" one section. checks/ holds the
queries that judge a relation (named after it), ops/ the bookkeeping and catalogue introspection; any other file is
named after what it returns or sets up (a report query, the judging macros, the analyst session).

Values always travel as DuckDB named parameters ($month). The only text substituted into a file is a table
identifier, and only one that the caller validated against a fixed list. The plumbing (does a table exist, drop,
delete or count a month, a month's rows, comments) is built below from quoted identifiers, values bound.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import duckdb

from zs_risk_pipeline.lib.core import resources

SQL_DIR = resources.sql_dir()
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")
SECTION = re.compile(r"^-- name: ([a-z_]+)[ \t]*$", re.MULTILINE)


def sections(text: str) -> dict[str, str]:
    """A file's text by section: "" is the definition (everything before the first `-- name:` line)."""
    parts = SECTION.split(text)
    found = {"": parts[0]}
    for name, body in zip(parts[1::2], parts[2::2], strict=True):
        if name in found:
            raise ValueError(f"section {name} appears twice")
        found[name] = f"-- name: {name}{body}"
    return found


@cache
def load_sql(name: str) -> str:
    """The text of "dir/file.sql" (its definition) or of "dir/file.sql#section"."""
    file, _, section = name.partition("#")
    path = SQL_DIR / file
    if not path.is_file():
        raise FileNotFoundError(f"SQL file {file} not found under {SQL_DIR}")
    found = sections(path.read_text(encoding="utf-8"))
    if section not in found:
        raise KeyError(f"SQL file {file} has no section {section!r} (it has {sorted(found)[1:]})")
    return found[section]


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
    """Run every statement of a file (or section) in order; each gets the parameters it names. Returns the last
    result."""
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


# --- plumbing: statements built from quoted identifiers, values bound ---------------------------------------


def quoted(name: str) -> str:
    """A dotted name ("schema.table", "temp._scratch", "table.column") as quoted identifiers."""
    return ".".join('"' + part.replace('"', '""') + '"' for part in name.split("."))


def _where(filters: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """`WHERE "col" = $w0 AND …` for the columns given, and the parameters it binds."""
    if not filters:
        return "", {}
    clauses = [f"{quoted(column)} = $w{i}" for i, column in enumerate(filters)]
    return " WHERE " + " AND ".join(clauses), {f"w{i}": value for i, value in enumerate(filters.values())}


def _month_filters(month: Any, column: str, where: dict[str, Any]) -> dict[str, Any]:
    return {**({column: month} if month is not None else {}), **where}


def table_exists(conn: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    """Whether a table exists (a fresh home has no tiers yet, a warehouse nothing published)."""
    sql = "SELECT count(*) > 0 FROM duckdb_tables() WHERE schema_name = $schema AND table_name = $table"
    return bool(query(conn, sql, {"schema": schema, "table": table})[0][0])


def drop(conn: duckdb.DuckDBPyConnection, *names: str, kind: str = "TABLE") -> None:
    """DROP TABLE (or VIEW) IF EXISTS of each name: a step's temporary tables, once read (or after a failure)."""
    if kind not in ("TABLE", "VIEW"):
        raise ValueError(f"cannot drop a {kind}")
    for name in names:
        conn.execute(f"DROP {kind} IF EXISTS {quoted(name)}")


def delete_month(conn: duckdb.DuckDBPyConnection, table: str, month: Any, column: str = "month", **where: Any) -> None:
    """Forget one month of a table (and only the rows matching `where`) before it is written again."""
    clause, params = _where(_month_filters(month, column, where))
    conn.execute(f"DELETE FROM {quoted(table)}{clause}", params).fetchall()


def row_count(
    conn: duckdb.DuckDBPyConnection, table: str, month: Any = None, column: str = "month", **where: Any
) -> int:
    """Rows of a table, of one month when given (and matching `where`)."""
    clause, params = _where(_month_filters(month, column, where))
    return int(query(conn, f"SELECT count(*) FROM {quoted(table)}{clause}", params)[0][0])


def month_rows(
    conn: duckdb.DuckDBPyConnection,
    table: str,
    month: Any,
    column: str = "month",
    *,
    ordered: bool = False,
    limit: int | None = None,
) -> duckdb.DuckDBPyRelation:
    """One month of a table as a relation (read it with .df(), .to_arrow_table()): `ordered` by all columns, the
    order in which it is published; `limit` rows at most."""
    clause, params = _where({column: month})
    sql = f"SELECT * FROM {quoted(table)}{clause}"
    sql += " ORDER BY ALL" if ordered else ""
    sql += f" LIMIT {int(limit)}" if limit is not None else ""
    return conn.sql(sql, params=params)


def distinct_values(
    conn: duckdb.DuckDBPyConnection, table: str, value_column: str, month: Any, column: str = "month"
) -> list[Any]:
    """The distinct values of one column in one month of a table, sorted (the models, the policy versions)."""
    clause, params = _where({column: month})
    sql = f"SELECT DISTINCT {quoted(value_column)} FROM {quoted(table)}{clause} ORDER BY 1"
    return [v for (v,) in query(conn, sql, params)]


def latest_month(conn: duckdb.DuckDBPyConnection, table: str, column: str = "month") -> Any:
    """The latest month a table holds, None when it is empty."""
    return query(conn, f"SELECT max({quoted(column)}) FROM {quoted(table)}")[0][0]


def comment_on(conn: duckdb.DuckDBPyConnection, kind: str, name: str, text: str) -> None:
    """COMMENT ON TABLE / VIEW / COLUMN (name "table.column" or "schema.table.column"): DuckDB takes no parameter
    there, so the text goes in as an escaped literal."""
    if kind not in ("TABLE", "VIEW", "COLUMN"):
        raise ValueError(f"cannot comment on a {kind}")
    conn.execute(f"COMMENT ON {kind} {quoted(name)} IS {literal(text)}")
