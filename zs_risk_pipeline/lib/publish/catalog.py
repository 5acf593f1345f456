"""The mart catalogue (集市目录): the views analysts query, rebuilt from the published files.

Every view reads the current or versioned parquet files of its table, guarded so a copied home refuses until
it is re-pointed; every column carries its English and Chinese description. Plain Python, no Dagster.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import json
import os
import re
import shutil
import tempfile
import uuid
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from zs_risk_pipeline.lib.core.db import transaction
from zs_risk_pipeline.lib.core.sql import comment_on, render, run_sql
from zs_risk_pipeline.lib.features import enterprise_monthly
from zs_risk_pipeline.lib.ingest.contract import REFERENCE_DIR
from zs_risk_pipeline.lib.publish import tables

# What build_catalog reads besides the published files' schemas: its SQL and the reference CSVs.
_CATALOG_SQL = (
    "marts/mart_home_guard.sql",
    "marts/main.{table}.sql",
    "marts/main.{table}_versions.sql",
    "marts/main.indicators.sql",
    "marts/main.{reference}.sql",
    "ops/catalog.sql#mart_columns",
)


# The files a table's two views read, by pattern: its current months, and every version.
_CURRENT_FILES = "month=*/data.parquet"  # under mart/data/<table>/


_VERSION_FILES = "month=*/v*.parquet"  # under mart/versions/<table>/


def _catalog_files(mart_dir: Path, spec: tables.MartTable) -> dict[str, list[Path]]:
    """The Parquet files each view of a table reads (current months; every version)."""
    return {
        spec.name: sorted((mart_dir / "data" / spec.name).glob(_CURRENT_FILES)),
        f"{spec.name}_versions": sorted((mart_dir / "versions" / spec.name).glob(_VERSION_FILES)),
    }


@functools.lru_cache(maxsize=4096)
def _parquet_schema(path: str, size: int, mtime_ns: int) -> str:
    """A file's Arrow schema (cached by path, size and modification time: a published file is never rewritten)."""
    try:
        return pq.read_schema(path).remove_metadata().to_string()
    except (OSError, ValueError) as e:  # ArrowInvalid is a ValueError; the catalogue build names the bad file
        return f"unreadable {path}: {e}"


def catalog_key(mart_dir: Path) -> str:
    """SHA-256 of everything the catalogue is built from: the home it guards, the DuckDB and storage versions, its
    SQL, the reference and column-documentation files, and per view the distinct schemas of the files it reads
    (a view reads them by name union, so its columns follow their schemas) with the columns' comments."""
    h = hashlib.sha256()

    def add(*parts: object) -> None:
        for part in parts:
            h.update(str(part).encode("utf-8") + b"\0")

    add(duckdb.__version__, tables.MART_STORAGE_VERSION, json.dumps(_guard_literals(mart_dir), sort_keys=True))
    add(*(render(name) for name in _CATALOG_SQL))
    for name in (
        "indicators.csv",
        tables.MART_COLUMNS_CSV,
        *(csv_name for csv_name, _ in tables.REFERENCE_TABLES.values()),
    ):
        add(name, hashlib.sha256((REFERENCE_DIR / name).read_bytes()).hexdigest())
    for spec in tables.MART_TABLES.values():
        for relation, files in _catalog_files(mart_dir, spec).items():
            schemas = sorted({_parquet_schema(str(f), st.st_size, st.st_mtime_ns) for f in files for st in [f.stat()]})
            add(relation, spec.description, len(schemas), *schemas)
            for schema in schemas:
                for line in schema.splitlines():
                    column = line.split(":", 1)[0]
                    add(column, column_comment(relation, column))
    return h.hexdigest()


def _built_key(mart_dir: Path) -> str | None:
    """The catalog_key the mart.duckdb in place was built with (the comment of its home guard), if it opens."""
    path = mart_dir / tables.MART_FILE
    if not path.exists():
        return None
    try:
        with duckdb.connect(str(path), read_only=True) as conn:
            rows = run_sql(conn, "ops/catalog.sql#key")
    except duckdb.Error:
        return None  # unreadable: rebuilt
    return rows[0][0].removeprefix(_KEY_PREFIX) if rows and rows[0][0] else None


_KEY_PREFIX = "catalogue built from inputs with SHA-256 "


def build_catalog(mart_dir: Path, target: Path | None = None) -> Path:
    """Rebuild mart.duckdb (views over the published Parquet files, documented, guarded to this home; reference
    tables) aside and swap it in; with `target`, build the same catalogue there instead (what verify compares the
    mart's catalogue with): the guard always names mart_dir's own mart.duckdb, wherever the file is written."""
    mart_dir.mkdir(parents=True, exist_ok=True)
    tmp = mart_dir / f".{tables.MART_FILE}.{uuid.uuid4().hex}.tmp" if target is None else target
    with duckdb.connect(str(tmp), config={"storage_compatibility_version": tables.MART_STORAGE_VERSION}) as conn:
        run_sql(
            conn,
            "marts/mart_home_guard.sql",
            literals={**_guard_literals(mart_dir), "key": _KEY_PREFIX + catalog_key(mart_dir)},
        )
        for spec in tables.MART_TABLES.values():
            if not _catalog_files(mart_dir, spec)[spec.name]:
                continue  # nothing published yet: no view (a view over no files cannot be created)
            run_sql(
                conn,
                "marts/main.{table}.sql",
                identifiers={"table": spec.name},
                literals={
                    "files": f"{(mart_dir / 'data' / spec.name).resolve()}/{_CURRENT_FILES}",
                    "comment": spec.description,
                },
            )
            run_sql(
                conn,
                "marts/main.{table}_versions.sql",
                identifiers={"table": spec.name},
                literals={
                    "files": f"{(mart_dir / 'versions' / spec.name).resolve()}/{_VERSION_FILES}",
                    "comment": f"Every published version of {spec.name}, current and superseded "
                    f"(发布版本历史); the current version is the view {spec.name}",
                },
            )
        run_sql(conn, "marts/main.indicators.sql", {"path": str(REFERENCE_DIR / "indicators.csv")})
        for name, (csv_name, comment) in tables.REFERENCE_TABLES.items():
            run_sql(
                conn,
                "marts/main.{reference}.sql",
                {"path": str(REFERENCE_DIR / csv_name)},
                identifiers={"reference": name},
                literals={"comment": comment},
            )
        with transaction(conn):  # one transaction: a commit per comment would cost more than the whole catalogue
            for relation, column, _comment in run_sql(conn, "ops/catalog.sql#mart_columns"):
                text = column_comment(relation, column)
                if text is not None:  # a column without one is what the documentation test names
                    comment_on(conn, "COLUMN", f"{relation}.{column}", text)
        conn.execute("CHECKPOINT")
    if target is not None:
        return target
    os.replace(tmp, mart_dir / tables.MART_FILE)
    return mart_dir / tables.MART_FILE


def _guard_literals(mart_dir: Path) -> dict[str, str]:
    """What the home guard (mart_home_guard.sql) names: this mart.duckdb, as given and with links resolved."""
    path = (mart_dir / tables.MART_FILE).absolute()
    return {
        "path": str(path),
        "resolved_path": str(path.resolve()),
        "message": (
            f"this {tables.MART_FILE} was built for {path.parent}; the home was copied, moved or restored elsewhere, "
            f"and its views would read that home's files: run `zs-risk repoint --home <this home>` (or the next "
            "`zs-risk run`) to re-point it at this home's own files"
        ),
    }


@functools.cache
def _column_docs() -> dict[tuple[str, str], str]:
    """(relation or "", column) → "English description (中文名)", from reference/mart_columns.csv."""
    with (REFERENCE_DIR / tables.MART_COLUMNS_CSV).open(encoding="utf-8", newline="") as f:
        return {(r["relation"], r["column"]): f"{r['description']} ({r['name_zh']})" for r in csv.DictReader(f)}


def column_comment(relation: str, column: str) -> str | None:
    """The comment of a mart column: the indicator catalogue for the features' indicators, else the relation's own
    entry in mart_columns.csv (a versions view documents its table's columns), else an entry for every relation."""
    base = relation.removesuffix("_versions")
    if base == "enterprise_features":
        found = enterprise_monthly.KEY_COMMENTS.get(column) or next(
            (i.comment for i in enterprise_monthly.indicators() if i.name == column), None
        )
        if found:
            return found
    docs = _column_docs()
    return docs.get((base, column)) or docs.get(("", column))


def _catalog_objects(path: Path) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as conn:
        objects = run_sql(conn, "ops/catalog.sql#objects")
        for name in ("indicators", *tables.REFERENCE_TABLES):
            if any(o[:3] == ("table", "main", name) for o in objects):
                objects += [("row", *r) for r in run_sql(conn, "ops/catalog.sql#rows", identifiers={"name": name})]
        return objects


# The catalogue the code builds from each set of inputs (catalog_key), as built once in this process: a run's
# unchanged publishes compare the catalogue in place with it instead of building a scratch one every time.
_EXPECTED: dict[tuple[str, str], list[tuple]] = {}


def _expected_objects(mart_dir: Path, reuse: bool) -> list[tuple]:
    key = (str(mart_dir.resolve()), catalog_key(mart_dir)) if reuse else None
    if key in _EXPECTED:
        return _EXPECTED[key]
    scratch = Path(tempfile.mkdtemp(prefix="zs-risk-catalog-check-"))  # not in the home: verify only reads it
    try:
        objects = _catalog_objects(build_catalog(mart_dir, scratch / tables.MART_FILE))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if key is not None:
        _EXPECTED[key] = objects
    return objects


def catalog_problems(mart_dir: Path, files_reported: bool = False, reuse: bool = False) -> list[str]:
    """How mart.duckdb differs from the catalogue the code builds over this home's published files: a view
    redefined (to hide rows, or to read other files), dropped or added, any other object, the indicators.

    `reuse`: compare with the catalogue this process already built from the same inputs (the publishes of a run);
    `verify` always builds it afresh."""
    path = mart_dir / tables.MART_FILE
    if not path.exists():
        return [f"{tables.MART_FILE} is missing"] if any((mart_dir / "data").glob(f"*/{_CURRENT_FILES}")) else []
    try:
        expected = _expected_objects(mart_dir, reuse)
    except duckdb.Error as e:
        if files_reported:  # a published file that cannot be read: the file checks name it
            return []
        return [f"{tables.MART_FILE}: not compared, the catalogue cannot be built over the files now: {e}"]
    try:
        found = _catalog_objects(path)
    except duckdb.Error as e:
        return [f"{tables.MART_FILE} cannot be opened: {e}"]
    problems = []
    want = {o[:3]: o for o in expected}
    have = {o[:3]: o for o in found}
    for key in sorted(set(want) | set(have), key=str):
        kind, schema, name = key
        if key not in have:
            problems.append(f"{tables.MART_FILE}: {kind} {schema}.{name} is missing")
        elif key not in want:
            problems.append(f"{tables.MART_FILE}: {kind} {schema}.{name} is not one the pipeline builds")
        elif want[key] != have[key]:
            problems.append(
                f"{tables.MART_FILE}: {kind} {schema}.{name} {_how_it_differs(mart_dir, want[key], have[key])}"
            )
    return problems


_GUARDS = re.compile(r"path IN \('((?:[^']|'')*)'")


_READS = re.compile(r"read_\w+\(\s*'((?:[^']|'')*)'|read_\w+\(\s*\[\s*'((?:[^']|'')*)'")


def _how_it_differs(mart_dir: Path, wanted: tuple, found: tuple) -> str:
    """Name the difference a reader cares about: files read outside this home's mart, or where the definition
    departs from the one the pipeline builds."""
    sql = str(found[3] or "")
    outside = sorted(
        {p for m in _READS.finditer(sql) for p in m.groups() if p and not p.startswith(str(mart_dir.resolve()) + "/")}
    )
    if outside:
        return (
            f"reads files outside this home's mart ({', '.join(outside[:2])}): redirected, or the home was copied "
            "or moved (its views refuse to read while they point elsewhere): run `zs-risk repoint` (or the next "
            "run) to rebuild the catalogue for this home"
        )
    built_for = _GUARDS.search(sql)
    if (
        found[:3] == ("macro", "main", "mart_home_guard")
        and built_for
        and built_for.group(1) != str((mart_dir / tables.MART_FILE).absolute())
    ):
        return (
            f"names another home's {tables.MART_FILE} ({built_for.group(1)}): the catalogue reads files outside this "
            "home's mart, so its views refuse; the home was copied or moved: run `zs-risk repoint` (or the next run)"
        )
    want, have = " ".join(str(wanted[3] or "").split()), " ".join(sql.split())
    if want == have:
        return "has another comment or content than the pipeline builds"
    at = next((i for i, (a, b) in enumerate(zip(want, have, strict=False)) if a != b), min(len(want), len(have)))
    shown = f"is not defined as the pipeline builds it: …{have[max(0, at - 40) : at + 80]}… (from character {at})"
    # The first difference can lie far from what was changed (the guard opens every view): show the last one too.
    same_end = next((i for i, (a, b) in enumerate(zip(want[::-1], have[::-1], strict=False)) if a != b), 0)
    end = len(have) - same_end
    return shown + (f", up to …{have[max(at + 80, end - 80) : end]}…" if end > at + 80 else "")
