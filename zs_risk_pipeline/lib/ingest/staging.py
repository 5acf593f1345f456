"""Ingestion of one delivery (one source, one month): landing → raw → staging or quarantine (数据接入).

Two steps, each one transaction, so a failure leaves the previous state of the month in place:
- land: every file of the month is read whole and its rows stored in raw.<source> with lineage; a file
  that cannot be read, or whose bytes were already ingested, is rejected as a whole and logged;
- stage: the month's raw rows are typed, normalised and judged in SQL; each row lands in
  staging.<source> or in quarantine.rows with a reason code, never nowhere.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from zs_risk_pipeline.lib.core import resources
from zs_risk_pipeline.lib.core.db import transaction
from zs_risk_pipeline.lib.core.month import Month
from zs_risk_pipeline.lib.core.sql import delete_month, run_sql, table_exists
from zs_risk_pipeline.lib.ingest import landing
from zs_risk_pipeline.lib.ingest.contract import REFERENCE_DIR, Source, source

_BLOCK = 64  # HMAC-SHA256 block size in bytes


REPEATED = "repeated_delivery"  # error_code of a file whose bytes the same source delivered in an earlier month


@dataclass
class FileReport:
    file: str
    sha256: str
    status: str  # ingested | rejected | duplicate_file
    rows_read: int = 0
    format: str | None = None
    encoding: str | None = None
    error_code: str | None = None
    error_message: str | None = None

    @property
    def problem(self) -> bool:
        """Rejected, or a repeat an operator should look at; an unchanged repeated delivery is none."""
        return self.status != "ingested" and self.error_code != REPEATED


@dataclass
class Reconciliation:
    file: str
    status: str
    rows_read: int
    raw_rows: int
    staged_rows: int
    quarantined_rows: int

    @property
    def balanced(self) -> bool:
        return self.raw_rows == self.rows_read == self.staged_rows + self.quarantined_rows


@dataclass
class DeliveryReport:
    source: str
    month: str
    files: list[Reconciliation] = field(default_factory=list)
    quarantine: list[dict] = field(default_factory=list)

    @property
    def raw_rows(self) -> int:
        return sum(f.raw_rows for f in self.files)

    @property
    def staged_rows(self) -> int:
        return sum(f.staged_rows for f in self.files)

    @property
    def quarantined_rows(self) -> int:
        return sum(f.quarantined_rows for f in self.files)

    @property
    def balanced(self) -> bool:
        return all(f.balanced for f in self.files)

    def as_dict(self) -> dict:
        return {
            "source": self.source,
            "month": self.month,
            "files": [asdict(f) for f in self.files],
            "quarantine": self.quarantine,
        }


def hmac_pads(key: bytes) -> tuple[bytes, bytes]:
    """The inner and outer padded keys of HMAC (RFC 2104), so DuckDB can hash set-based."""
    if len(key) > _BLOCK:
        key = hashlib.sha256(key).digest()
    key = key.ljust(_BLOCK, b"\0")
    return bytes(b ^ 0x36 for b in key), bytes(b ^ 0x5C for b in key)


def prepare(conn: duckdb.DuckDBPyConnection, pii_key: bytes | None = None, *, reference: bool = True) -> None:
    """Schemas, reference lists and macros on this connection; the PII hash only when a key is given.

    `reference=False` skips the reference lists, which only staging's judgments look up (landing needs the
    macros for the PII hash only): loading them costs a noticeable share of every ingest step."""
    run_sql(conn, "staging/raw.landing_files.sql")
    run_sql(conn, "staging/quarantine.rows.sql")
    run_sql(conn, "staging/macros.sql")
    if reference:
        run_sql(
            conn,
            "staging/macros.sql#reference_lists",
            {
                "towns_csv": str(REFERENCE_DIR / "towns.csv"),
                "sections_csv": str(REFERENCE_DIR / "industry_sections.csv"),
                "result_codes_csv": str(REFERENCE_DIR / "result_codes.csv"),
                "allowlist_csv": str(resources.config_file("uscc_allowlist.csv")),
            },
        )
    if pii_key is not None:
        ipad, opad = hmac_pads(pii_key)
        run_sql(conn, "staging/macros.sql#pii_hash", {"ipad": ipad, "opad": opad})


def land(
    conn: duckdb.DuckDBPyConnection,
    source_name: str,
    month: str,
    landing_dir: Path,
    *,
    ingested_at: dt.datetime | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[FileReport]:
    """Land every file of one delivery in raw.<source>; needs prepare(conn, pii_key) first."""
    src = source(source_name)
    folder = month[:7]
    at = (ingested_at or dt.datetime.now(dt.UTC)).replace(tzinfo=None)
    p = {"source": src.name, "month": Month.of(month).start}
    reports: list[FileReport] = []
    with transaction(conn):
        _ensure_raw(conn, src)
        delete_month(conn, f"raw.{src.name}", p["month"], "_delivery_month")
        delete_month(conn, "raw.landing_files", p["month"], "delivery_month", source=src.name)
        seen: dict[str, str] = {}
        for f in landing.list_files(landing_dir, src.name, folder):
            report = _land_file(conn, src, f, p, at, seen)
            reports.append(report)
            _log_file(conn, src, p, f, report, at)
            if progress:
                progress(f"{f.relative}: {report.status}, {report.rows_read} rows")
    return reports


def _ensure_raw(conn: duckdb.DuckDBPyConnection, src: Source) -> None:
    """raw.<source> shaped from the contract, so a source that never delivered still has a table."""
    conn.register("_landed", landing.empty_table(src))
    try:
        run_sql(conn, "staging/raw.{source}.sql", identifiers={"source": src.name})
    finally:
        conn.unregister("_landed")


def _land_file(
    conn: duckdb.DuckDBPyConnection,
    src: Source,
    f: landing.LandingFile,
    p: dict,
    at: dt.datetime,
    seen: dict[str, str],
) -> FileReport:
    earlier = seen.get(f.sha256)
    if earlier is None:
        hit = run_sql(conn, "staging/raw.landing_files.sql#seen", {**p, "sha256": f.sha256})
        earlier = f"{hit[0][2]} ({hit[0][0]}, {hit[0][1]})" if hit else None
        if hit and hit[0][0] == src.name and hit[0][1] < p["month"].strftime("%Y-%m"):
            # The source sent exactly what it sent before (an unchanged directory, another month without
            # rows): a delivery, with nothing new to ingest - not an operator's mistake.
            return FileReport(
                f.relative,
                f.sha256,
                "duplicate_file",
                format=f.format,
                error_code=REPEATED,
                error_message=f"{f.relative}: the same bytes as {earlier}, an unchanged delivery (nothing new)",
            )
    if earlier is not None:
        return FileReport(
            f.relative,
            f.sha256,
            "duplicate_file",
            format=f.format,
            error_code="duplicate_file",
            error_message=f"{f.relative}: same bytes (SHA-256 {f.sha256[:12]}…) already ingested as "
            f"{earlier}; identical content is never ingested twice (a corrected file must differ)",
        )
    seen[f.sha256] = f.relative
    try:
        result = landing.read_file(f, src)
    except landing.FileRejected as e:
        # The message may quote the file's header, which is a data row when the header is missing.
        message = scrub_pii(conn, e.message)
        return FileReport(f.relative, f.sha256, "rejected", format=f.format, error_code=e.code, error_message=message)
    table: pa.Table = result.table
    conn.register("_landed_arrow", table)
    try:
        conn.execute("CREATE OR REPLACE TEMP TABLE _landed AS SELECT * FROM _landed_arrow")
    finally:
        conn.unregister("_landed_arrow")
    for col in src.columns:
        if col.type == "pii":
            run_sql(conn, "staging/raw.{source}.sql#hash_pii", identifiers={"column": col.name})
    if table.column("_raw_line").null_count < table.num_rows:  # malformed rows: their text holds every field
        run_sql(conn, "staging/raw.{source}.sql#scrub_raw_line")
    run_sql(
        conn,
        "staging/raw.{source}.sql#insert",
        {**p, "file": f.relative, "sha256": f.sha256, "ingested_at": at},
        {"source": src.name},
    )
    conn.execute("DROP TABLE _landed")
    return FileReport(
        f.relative, f.sha256, "ingested", rows_read=table.num_rows, format=f.format, encoding=result.encoding
    )


def scrub_pii(conn: duckdb.DuckDBPyConnection, text: str | None) -> str | None:
    """Free text with every token that looks like a personal ID number replaced by its keyed hash (the
    hash its ID column gets), for a message about a file; needs prepare(conn, pii_key) first."""
    if text is None:
        return None
    return run_sql(conn, "staging/macros.sql#scrub_text", {"text": text})[0][0]


def _log_file(conn, src: Source, p: dict, f: landing.LandingFile, r: FileReport, at: dt.datetime) -> None:
    run_sql(
        conn,
        "staging/raw.landing_files.sql#log",
        {
            **p,
            "file": f.relative,
            "sha256": f.sha256,
            "size_bytes": f.size_bytes,
            "format": r.format,
            "encoding": r.encoding,
            "status": r.status,
            "error_code": r.error_code,
            "error_message": r.error_message,
            "rows_read": r.rows_read,
            "ingested_at": at,
        },
    )


def stage(conn: duckdb.DuckDBPyConnection, source_name: str, month: str) -> DeliveryReport:
    """Type and judge one landed delivery; every raw row ends in staging or quarantine."""
    src = source(source_name)
    p = {"source": src.name, "month": Month.of(month).start, "month_end": Month.of(month).end}
    ident = {"source": src.name}
    with transaction(conn):
        _ensure_raw(conn, src)
        run_sql(conn, f"staging/staging.{src.name}.sql")
        run_sql(conn, f"staging/staging.{src.name}.sql#typed", p)
        run_sql(conn, "staging/quarantine.rows.sql#judge_duplicates", {"key_columns": ", ".join(src.key)})
        if src.unique_across_deliveries:
            run_sql(
                conn,
                "staging/quarantine.rows.sql#judge_redelivered",
                {**p, "key_columns": ", ".join(src.key)},
                {"source": src.name, "key": src.key[0]},
            )
        run_sql(conn, "staging/quarantine.rows.sql#split", p, ident)
        if src.name == "registry":
            run_sql(conn, "staging/staging.registry_history.sql")
        conn.execute("DROP TABLE _typed")
        conn.execute("DROP TABLE _judged")
    return report(conn, src.name, month)


def files(conn: duckdb.DuckDBPyConnection, source_name: str, month: str) -> list[FileReport]:
    """What happened to each landing file of one delivery."""
    src = source(source_name)
    rows = run_sql(
        conn, "staging/raw.landing_files.sql#files_of_month", {"source": src.name, "month": Month.of(month).start}
    )
    return [FileReport(*r) for r in rows]


def report(conn: duckdb.DuckDBPyConnection, source_name: str, month: str) -> DeliveryReport:
    """Reconciliation of one delivery as it stands in the warehouse."""
    src = source(source_name)
    p = {"source": src.name, "month": Month.of(month).start}
    ident = {"source": src.name}
    out = DeliveryReport(src.name, month[:7])
    if not (table_exists(conn, "raw", src.name) and table_exists(conn, "staging", src.name)):
        return out
    out.files = [Reconciliation(*row) for row in run_sql(conn, "checks/staging.{source}.sql", p, ident)]
    out.quarantine = [
        {"reason_code": r[0], "column": r[1], "rows": r[2], "example": r[3]}
        for r in run_sql(conn, "staging/quarantine.rows.sql#summary", p)
    ]
    return out
