"""The staging SQL agrees with the landing contract (reference/contract.yaml), read through DuckDB's own parser:
every required column is judged as required, every optional one as optional, every enumeration allows exactly the
contract's values, and each staging table holds the contract's columns, NOT NULL exactly where they are required.
The staging files restate the contract in SQL; this is what keeps the two from drifting apart (数据约定一致性)."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import duckdb
import pytest

from zs_risk_pipeline.lib.core.sql import (
    SQL_DIR,
    comment_on,
    delete_month,
    distinct_values,
    drop,
    latest_month,
    load_sql,
    month_rows,
    quoted,
    render,
    row_count,
    sections,
    table_exists,
)
from zs_risk_pipeline.lib.ingest.contract import Source, sources
from zs_risk_pipeline.lib.monitoring.early_warnings import load_rules
from zs_risk_pipeline.lib.reporting import tables as reporting

PACKAGE = Path(__file__).resolve().parents[2] / "zs_risk_pipeline"

# Where each judging macro takes its column name, its "required" flag and its allowed values (sql/staging/macros.sql).
REQUIRED_ARG = {"zs_chk_uscc": 2, "zs_chk_date": 2, "zs_chk_decimal": 2, "zs_chk_int": 2, "zs_chk_bool": 2}
ALWAYS_REQUIRED = {"zs_chk_required", "zs_chk_town", "zs_chk_industry"}
ENUM = "zs_chk_enum"  # (col, raw, value, required, allowed)
# Contract columns stored under another name: personal IDs are kept only as their keyed hash.
STORED_AS = {"legal_rep_id": "legal_rep_hash"}
# Columns staging derives from the contract's (whether the result codes found a problem).
DERIVED = {"inspections": {"problem_found"}}


def _functions(node: Any) -> list[dict]:
    found: list[dict] = []
    if isinstance(node, dict):
        if node.get("class") == "FUNCTION":
            found.append(node)
        for value in node.values():
            found += _functions(value)
    elif isinstance(node, list):
        for value in node:
            found += _functions(value)
    return found


def _constant(arg: dict) -> Any:
    expr = arg["expression"]
    if expr.get("class") == "CONSTANT":
        literal = expr["literal"]
        return {"true": True, "false": False}.get(literal["text"], literal["text"])
    if expr.get("class") == "FUNCTION" and expr["function_name"] == "list_value":  # ['a', 'b']
        return tuple(_constant(a) for a in expr["arguments"])
    return None


def _judgments(src: Source) -> tuple[dict[str, bool], dict[str, tuple[str, ...]]]:
    """Column → judged as required, and column → allowed values, from the source's staging file."""
    statements = duckdb.extract_statements(render(f"staging/staging.{src.name}.sql#typed"))
    typed = next(s.query for s in statements if "TEMP TABLE _typed AS" in s.query)
    query = typed.split("TEMP TABLE _typed AS", 1)[1]
    with duckdb.connect() as conn:
        tree = json.loads(conn.execute("SELECT json_serialize_sql($q)", {"q": query}).fetchone()[0])
    assert not tree["error"], tree.get("error_message")
    required: dict[str, bool] = {}
    enums: dict[str, tuple[str, ...]] = {}
    for fn in _functions(tree):
        name, args = fn["function_name"], fn["arguments"]
        if name == "zs_problem" and _constant(args[0]) == "missing_required":  # a check written out inline
            required[_constant(args[1])] = True
        elif name in ALWAYS_REQUIRED:
            required[_constant(args[0])] = True
        elif name in REQUIRED_ARG:
            column = _constant(args[0])
            required[column] = required.get(column, False) or _constant(args[REQUIRED_ARG[name]]) is True
        elif name == ENUM:
            column = _constant(args[0])
            required[column] = required.get(column, False) or _constant(args[3]) is True
            enums[column] = _constant(args[4])
    return required, enums


@pytest.mark.parametrize("name", sorted(sources()))
def test_staging_judges_what_the_contract_requires_and_allows(name: str) -> None:
    src = sources()[name]
    required, enums = _judgments(src)
    assert set(required) <= set(src.column_names), f"{name}: judges columns the contract does not have"
    for col in src.columns:
        if col.required:
            assert required.get(col.name) is True, f"{name}.{col.name}: required by the contract, not judged so"
        else:
            assert not required.get(col.name), f"{name}.{col.name}: optional in the contract, judged required"
        if col.enum is not None:
            assert enums.get(col.name) == col.enum, f"{name}.{col.name}: allowed values differ from the contract"
        else:
            assert col.name not in enums, f"{name}.{col.name}: an enumeration the contract does not define"


@pytest.mark.parametrize("name", sorted(sources()))
def test_staging_tables_hold_the_contract_columns_not_null_where_required(name: str) -> None:
    src = sources()[name]
    create = next(
        s.query
        for s in duckdb.extract_statements(render(f"staging/staging.{name}.sql"))
        if f"CREATE TABLE IF NOT EXISTS staging.{name} " in s.query
    )
    with duckdb.connect() as conn:
        conn.execute("CREATE SCHEMA staging")
        conn.execute(create)
        nullable = dict(
            conn.execute(
                "SELECT column_name, is_nullable FROM duckdb_columns() "
                "WHERE schema_name = 'staging' AND table_name = $t",
                {"t": name},
            ).fetchall()
        )
    lineage = {"_delivery_month", "_source_file", "_file_sha256", "_row_number", "_line_number"}
    stored = {STORED_AS.get(c.name, c.name): c for c in src.columns}
    assert set(nullable) - lineage - DERIVED.get(name, set()) == set(stored), f"staging.{name}: not the contract's"
    for column, col in stored.items():
        assert nullable[column] is (not col.required), f"staging.{name}.{column}: NOT NULL must match required"


# Placeholders filled with quoted text (sql.render's literals); the others are identifiers.
LITERAL_PLACEHOLDERS = {"comment", "files", "message", "path", "resolved_path", "key"}
PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


def _statements(text: str) -> list | None:
    """The statements DuckDB's parser reads, placeholders filled as identifiers (zs_ph_<name>_hp_zs, which
    _placeholders turns back), or else the literal ones as text; None when it cannot read them."""
    for literal in (set(), LITERAL_PLACEHOLDERS):
        filled = PLACEHOLDER.sub(
            lambda m, lit=literal: "'x'" if m.group(1) in lit else f"zs_ph_{m.group(1)}_hp_zs", text
        )
        try:
            return duckdb.extract_statements(filled)
        except duckdb.Error:
            continue
    return None


def _placeholders(text: str) -> str:
    return re.sub(r"zs_ph_([a-z_]+?)_hp_zs", r"{\1}", text)


def _files() -> dict[str, dict[str, str]]:
    """Every SQL file under sql/ by its name below it, and its sections ("" the definition)."""
    return {
        p.relative_to(SQL_DIR).as_posix(): sections(p.read_text(encoding="utf-8"))
        for p in sorted(SQL_DIR.rglob("*.sql"))
    }


def _label(file: str, section: str) -> str:
    return f"{file}#{section}" if section else file


def test_every_sql_file_parses_and_is_used() -> None:
    files = _files()
    assert files
    code = "\n".join(p.read_text(encoding="utf-8") for p in PACKAGE.rglob("*.py"))
    # Files the code names by their source or rule (f"staging/staging.{src.name}.sql"): how it spells each.
    templates = {
        "staging/staging.{src.name}.sql": [f"staging/staging.{s}.sql" for s in sources()],
        "intermediate/warning_{rule.name}.sql": [f"intermediate/warning_{r}.sql" for r in load_rules()],
        "marts/reporting.{name}.sql": [f"marts/reporting.{n}.sql" for n in reporting.TABLES],
        "checks/reporting.{name}.sql": [f"checks/reporting.{n}.sql" for n in reporting.TABLES],
    }
    spelled = {f: template for template, named in templates.items() for f in named}

    def used(file: str, section: str) -> bool:
        """Spelled out in quotes as "dir/name.sql" or "dir/name.sql#section" (or by its template), or a file
        named by itself and joined to its folder."""
        names = [file, spelled.get(file, file)]
        if section:
            return any(f'"{n}#{section}"' in code for n in names)
        return any(f'"{n}"' in code for n in names) or f'"{Path(file).name}"' in code

    unparsable = [_label(f, s) for f, parts in files.items() for s, text in parts.items() if _statements(text) is None]
    # A definition that runs nothing (a file of sections only) need not be named.
    unused = [
        _label(f, s)
        for f, parts in files.items()
        for s, text in parts.items()
        if (s or _statements(text)) and not used(f, s)
    ]
    assert not unparsable, f"SQL files DuckDB cannot parse: {unparsable}"
    assert not unused, f"SQL files or sections nothing runs: {unused}"
    assert set(spelled) <= set(files), f"sources or rules without their SQL file: {sorted(set(spelled) - set(files))}"


def test_sections_split_a_file_by_name() -> None:
    text = "-- t\nCREATE TABLE t (a INT);\n\n-- name: fill\n-- the fill\nINSERT INTO t VALUES (1);\n"
    text += "-- name: read\nSELECT a FROM t;\n"
    found = sections(text)
    assert list(found) == ["", "fill", "read"]
    assert found[""] == "-- t\nCREATE TABLE t (a INT);\n\n"
    assert found["fill"] == "-- name: fill\n-- the fill\nINSERT INTO t VALUES (1);\n"
    with pytest.raises(ValueError, match="twice"):
        sections(text + "-- name: fill\nSELECT 1;\n")
    with pytest.raises(KeyError, match="no section"):
        load_sql("staging/quarantine.rows.sql#nothing_of_that_name")


def test_plumbing_is_built_from_quoted_identifiers_with_values_bound() -> None:
    with duckdb.connect() as conn:
        conn.execute("CREATE SCHEMA s")
        conn.execute("CREATE TABLE s.t (month DATE, source VARCHAR, v INT)")
        conn.execute(
            "INSERT INTO s.t VALUES ('2024-03-01', 'a', 2), ('2024-03-01', 'a', 1), ('2024-03-01', 'b', 3), "
            "('2024-04-01', 'a', 4)"
        )
        march = dt.date(2024, 3, 1)
        assert table_exists(conn, "s", "t") and not table_exists(conn, "s", "u")
        assert row_count(conn, "s.t") == 4 and row_count(conn, "s.t", march) == 3
        assert row_count(conn, "s.t", march, source="a") == 2
        assert month_rows(conn, "s.t", march, ordered=True, limit=2).fetchall() == [
            (march, "a", 1),
            (march, "a", 2),
        ]
        assert distinct_values(conn, "s.t", "source", march) == ["a", "b"]
        assert latest_month(conn, "s.t") == dt.date(2024, 4, 1)
        comment_on(conn, "COLUMN", "s.t.v", "it's a value (值)")
        comment_on(conn, "TABLE", "s.t", "a table")
        assert conn.execute("SELECT comment FROM duckdb_columns() WHERE column_name = 'v'").fetchall() == [
            ("it's a value (值)",)
        ]
        delete_month(conn, "s.t", march, source="a")
        assert row_count(conn, "s.t", march) == 1
        # A value never becomes SQL text: this deletes nothing rather than everything.
        delete_month(conn, "s.t", "2024-04-01' OR '1' = '1", column="source")
        assert row_count(conn, "s.t") == 2
        conn.execute("CREATE TEMP TABLE _scratch AS SELECT 1 AS x")
        drop(conn, "temp._scratch", "temp._never_made")
        assert not table_exists(conn, "main", "_scratch")
        assert quoted('odd"name.t') == '"odd""name"."t"'


# What a statement creates: a table or view (TEMP ones are a step's scratch, not relations of the warehouse).
CREATE = re.compile(
    r"CREATE\s+(?:OR\s+REPLACE\s+)?(?P<temp>(?:TEMP|TEMPORARY)\s+)?(?:TABLE|VIEW)\s+(?:IF\s+NOT\s+EXISTS\s+)?"
    r"(?P<name>[\w.]+)",
    re.IGNORECASE,
)
RELATION_LAYERS = ("staging", "intermediate", "marts", "ops")


def _defined(text: str) -> list[str]:
    """The relations a text's statements create, schema-qualified (unqualified ones are the catalogue's main schema,
    as the mart catalogue's views), placeholders kept ({source})."""
    found = []
    for stmt in _statements(text) or []:
        query = re.sub(r"--[^\n]*", "", stmt.query).strip()
        match = CREATE.match(query) if stmt.type == duckdb.StatementType.CREATE else None
        if match and not match["temp"]:
            name = _placeholders(match["name"]).lower()
            found.append(name if "." in name else f"main.{name}")
    return found


def test_every_relation_file_defines_the_relation_it_is_named_after() -> None:
    """A file named <schema>.<relation>.sql defines that relation and no other, in its definition (before its
    sections); a file named otherwise (a query named after what it returns) defines none; no two files define the
    same relation; a check is named after a relation some file defines."""
    files = _files()
    defined: dict[str, list[str]] = {}
    problems = []
    for f, parts in files.items():
        layer, stem = f.split("/")[0], Path(f).name.removesuffix(".sql")
        if layer not in (*RELATION_LAYERS, "checks"):
            problems.append(f"{f}: not in a layer folder")
            continue
        expected = [stem] if "." in stem and layer != "checks" else []
        head, in_sections = _defined(parts[""]), [n for s, text in parts.items() if s for n in _defined(text)]
        if head != expected or in_sections:
            problems.append(f"{f}: defines {head} and in its sections {in_sections}, expected {expected} first")
        for name in head + in_sections:
            defined.setdefault(name, []).append(f)
    twice = {name: where for name, where in defined.items() if len(where) > 1}
    assert not problems, problems
    assert not twice, f"relations defined by more than one file: {twice}"

    def judged(check: str) -> bool:
        """Whether a check names a relation some file defines; a placeholder ({source}) stands for any name."""
        regex = re.sub(r"\\\{[a-z_]+\\\}", lambda _: r"(?:[a-z_]+|\{[a-z_]+\})", re.escape(check))
        return any(re.fullmatch(regex, name) for name in defined)

    checks = [f for f in files if f.startswith("checks/")]
    assert checks
    unknown = [f for f in checks if not judged(Path(f).name.removesuffix(".sql"))]
    assert not unknown, f"checks named after no relation: {unknown}"


def test_the_relation_scan_reads_definitions_and_their_placeholders() -> None:
    text = (
        "-- raw.{source}: …\nCREATE SCHEMA IF NOT EXISTS raw;\n"
        "CREATE TABLE IF NOT EXISTS raw.{source} AS SELECT 1 AS a;\nCOMMENT ON TABLE raw.{source} IS {comment};\n"
        "CREATE OR REPLACE TEMP TABLE _typed AS SELECT 1;\n"
        "CREATE OR REPLACE VIEW {table}_versions AS SELECT 1;\nCREATE OR REPLACE TEMP MACRO m(x) AS x;\n"
    )
    assert _defined(text) == ["raw.{source}", "main.{table}_versions"]
