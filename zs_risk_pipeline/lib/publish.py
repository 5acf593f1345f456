"""Write, audit, publish (写入—审计—发布): how a table reaches the analysts' mart.

1. write: the pipeline writes a month of a table into its own warehouse (readers never open it);
2. audit: blocking checks run on that month; each result is recorded with the content fingerprint of
   exactly the rows it checked (audit.audits);
3. publish: only when every required check passed on the current fingerprint, the month is exported
   to a Parquet file under mart/ (written aside, then renamed into place: atomic), the mart catalogue
   file mart.duckdb is rebuilt aside and renamed over the old one, and the publish is appended to a
   hash-chained log. A reader holding mart.duckdb open keeps its file; the pipeline never needs its lock.
A failed check therefore leaves the previously published version in place.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet as pq

from zs_risk_pipeline.lib.contract import REFERENCE_DIR
from zs_risk_pipeline.lib.sql import render, run_sql

MART_FILE = "mart.duckdb"
GENESIS = "0" * 64


class PublishRefused(RuntimeError):
    """The month may not be published: a required check is missing, failed, or saw other content."""


@dataclass(frozen=True)
class MartTable:
    name: str  # view name in the mart
    schema: str  # warehouse schema.table it is published from
    table: str
    month_column: str
    required_checks: tuple[str, ...]
    description: str  # English (中文)

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.table}"


@dataclass(frozen=True)
class Fingerprint:
    rows: int
    sha256: str


@dataclass(frozen=True)
class PublishResult:
    mart_table: str
    month: str
    file: Path
    file_sha256: str
    rows: int
    entry_hash: str


MART_TABLES: dict[str, MartTable] = {
    "enterprise_features": MartTable(
        name="enterprise_features",
        schema="features",
        table="enterprise_monthly",
        month_column="month",
        required_checks=("features_quality_suite", "row_count_matches_alive_enterprises"),
        description=(
            "Monthly point-in-time indicators of every enterprise alive at month end, five SAMR dimensions; "
            "see the indicators table (企业月度特征：月末存续企业的五维度指标，时点口径)"
        ),
    ),
    "enterprise_tiers": MartTable(
        name="enterprise_tiers",
        schema="tiers",
        table="enterprise_monthly",
        month_column="month",
        required_checks=(
            "tiers_quality_suite",
            "one_tier_per_alive_enterprise",
            "serving_model_verified",
            "holdout_problem_rate_increasing",
        ),
        description=(
            "Monthly credit-risk tier A/B/C/D of every enterprise alive at month end with score, probability, "
            "points, override and top-3 reasons; internal reference data, never for the public "
            "(企业信用风险分类结果：内部参考，不对外公开)"
        ),
    ),
}


def prepare(conn: duckdb.DuckDBPyConnection) -> None:
    run_sql(conn, "publish/setup.sql")


def month_date(month: str) -> dt.date:
    return dt.date.fromisoformat(month[:7] + "-01")


def fingerprint(conn: duckdb.DuckDBPyConnection, spec: MartTable, month: str) -> Fingerprint:
    ident = {"schema": spec.schema, "table": spec.table, "month_column": spec.month_column}
    rows, sha = run_sql(conn, "publish/fingerprint.sql", {"month": month_date(month)}, ident)[0]
    return Fingerprint(int(rows), sha)


def month_frame(conn: duckdb.DuckDBPyConnection, spec: MartTable, month: str | dt.date) -> pd.DataFrame:
    """One month of the table as the checks see it (empty when the month was never written)."""
    ident = {"schema": spec.schema, "table": spec.table, "month_column": spec.month_column}
    day = month if isinstance(month, dt.date) else month_date(month)
    return conn.sql(render("publish/month_rows.sql", ident), params={"month": day}).df()


def record_audit(
    conn: duckdb.DuckDBPyConnection,
    spec: MartTable,
    month: str,
    check_name: str,
    fp: Fingerprint,
    passed: bool,
    detail: dict,
    at: dt.datetime | None = None,
) -> None:
    run_sql(
        conn,
        "publish/record_audit.sql",
        {
            "table_name": spec.qualified,
            "month": month_date(month),
            "check_name": check_name,
            "fingerprint": fp.sha256,
            "rows": fp.rows,
            "passed": passed,
            "detail": json.dumps(detail, ensure_ascii=False, default=str),
            "checked_at": at or dt.datetime.now(dt.UTC).replace(tzinfo=None),
        },
    )


def _audit_problems(conn: duckdb.DuckDBPyConnection, spec: MartTable, month: str, fp: Fingerprint) -> list[str]:
    latest = {
        name: (sha, passed)
        for name, sha, passed, _rows, _at in run_sql(
            conn, "publish/latest_audits.sql", {"table_name": spec.qualified, "month": month_date(month)}
        )
    }
    problems = []
    for check in spec.required_checks:
        if check not in latest:
            problems.append(f"{check}: never ran on this month")
        elif latest[check][0] != fp.sha256:
            problems.append(f"{check}: checked other content than the rows now in {spec.qualified}")
        elif not latest[check][1]:
            problems.append(f"{check}: failed")
    return problems


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def publish_month(
    conn: duckdb.DuckDBPyConnection, spec: MartTable, month: str, mart_dir: Path, at: dt.datetime | None = None
) -> PublishResult:
    """Publish one audited month of a table to the mart, or raise PublishRefused and change nothing."""
    prepare(conn)
    fp = fingerprint(conn, spec, month)
    problems = _audit_problems(conn, spec, month, fp)
    if problems:
        raise PublishRefused(
            f"{spec.qualified} {month[:7]} is not published; the mart keeps its previous version: "
            + "; ".join(problems)
        )
    folder = mart_dir / "data" / spec.name / f"month={month[:7]}"
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / "data.parquet"
    tmp = folder / f".data.parquet.{uuid.uuid4().hex}.tmp"
    ident = {"schema": spec.schema, "table": spec.table, "month_column": spec.month_column}
    table = conn.sql(render("publish/export_month.sql", ident), params={"month": month_date(month)}).to_arrow_table()
    if table.num_rows != fp.rows:
        raise PublishRefused(f"{spec.qualified} {month[:7]} changed while being published")
    # pyarrow's writer with fixed options: the same rows give the same bytes.
    pq.write_table(table, tmp, compression="zstd", compression_level=3, write_statistics=True)
    file_sha = _sha256_file(tmp)
    os.replace(tmp, final)
    build_catalog(mart_dir)
    entry = _append_log(conn, spec, month, final.relative_to(mart_dir).as_posix(), file_sha, fp, at)
    return PublishResult(spec.name, month[:7], final, file_sha, fp.rows, entry)


def _append_log(
    conn: duckdb.DuckDBPyConnection,
    spec: MartTable,
    month: str,
    file: str,
    file_sha: str,
    fp: Fingerprint,
    at: dt.datetime | None,
) -> str:
    tail = run_sql(conn, "publish/log_tail.sql")
    seq, prev = (tail[0][0] + 1, tail[0][1]) if tail else (1, GENESIS)
    when = at or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    entry = {
        "seq": seq,
        "mart_table": spec.name,
        "month": month[:7],
        "file": file,
        "file_sha256": file_sha,
        "rows": fp.rows,
        "fingerprint": fp.sha256,
        "published_at": when.isoformat(),
        "prev_hash": prev,
    }
    entry_hash = hashlib.sha256(json.dumps(entry, sort_keys=True).encode("utf-8")).hexdigest()
    run_sql(
        conn,
        "publish/log_append.sql",
        {**entry, "month": month_date(month), "published_at": when, "entry_hash": entry_hash},
    )
    return entry_hash


def build_catalog(mart_dir: Path) -> Path:
    """Rebuild mart.duckdb (views over the published Parquet files, documented) aside and swap it in."""
    mart_dir.mkdir(parents=True, exist_ok=True)
    tmp = mart_dir / f".{MART_FILE}.{uuid.uuid4().hex}.tmp"
    with duckdb.connect(str(tmp)) as conn:
        for spec in MART_TABLES.values():
            files = sorted((mart_dir / "data" / spec.name).glob("month=*/data.parquet"))
            if not files:
                continue  # nothing published yet: no view (a view over no files cannot be created)
            run_sql(
                conn,
                "publish/mart_view.sql",
                identifiers={"name": spec.name},
                literals={
                    "files": str((mart_dir / "data" / spec.name).resolve()) + "/month=*/data.parquet",
                    "comment": spec.description,
                },
            )
        run_sql(conn, "publish/mart_indicators.sql", {"path": str(REFERENCE_DIR / "indicators.csv")})
        conn.execute("CHECKPOINT")
    os.replace(tmp, mart_dir / MART_FILE)
    return mart_dir / MART_FILE


def verify(conn: duckdb.DuckDBPyConnection, mart_dir: Path) -> list[str]:
    """Re-compute the publish log's hash chain and the hash of every file still current in the mart.

    Returns the problems found (empty: intact). A file republished later legitimately differs from its
    earlier entries; only the latest entry of each file must match the bytes on disk.
    """
    problems: list[str] = []
    prev = GENESIS
    latest: dict[str, tuple[int, str]] = {}
    for seq, table, month, file, file_sha, rows, fp, at, prev_hash, entry_hash in run_sql(conn, "publish/log_all.sql"):
        entry = {
            "seq": seq,
            "mart_table": table,
            "month": month,
            "file": file,
            "file_sha256": file_sha,
            "rows": rows,
            "fingerprint": fp,
            "published_at": at.isoformat(),
            "prev_hash": prev_hash,
        }
        if prev_hash != prev:
            problems.append(f"publish log entry {seq}: chain broken (previous hash does not match entry {seq - 1})")
        if hashlib.sha256(json.dumps(entry, sort_keys=True).encode("utf-8")).hexdigest() != entry_hash:
            problems.append(f"publish log entry {seq}: entry altered ({table} {month})")
        prev = entry_hash
        latest[file] = (seq, file_sha)
    for file, (seq, sha) in sorted(latest.items()):
        path = mart_dir / file
        if not path.exists():
            problems.append(f"{file}: published in entry {seq} but missing from the mart")
        elif _sha256_file(path) != sha:
            problems.append(f"{file}: content differs from what entry {seq} published")
    return problems
