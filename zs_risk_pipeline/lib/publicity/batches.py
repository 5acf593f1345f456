"""Results published on arrival (到达即公示): one batch per day results arrived, never rewritten.

Plain Python, no Dagster.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from zs_risk_pipeline.lib.core.db import transaction
from zs_risk_pipeline.lib.core.digest import sha256_file
from zs_risk_pipeline.lib.core.month import Month
from zs_risk_pipeline.lib.core.sql import run_sql, table_exists
from zs_risk_pipeline.lib.publicity import deadlines, export_files, export_rules


@dataclass(frozen=True)
class Batch:
    """One published batch (随到随公示批次), as recorded in publicity.result_batches."""

    batch_id: str
    source_file: str
    file_sha256: str
    rows: int
    published_on: dt.date
    late: int
    files_sha256: dict[str, str]  # label → SHA-256 of the published file


@dataclass(frozen=True)
class BatchesResult:
    month: dt.date
    published: list[Batch]  # new in this run
    unchanged: list[Batch]  # published before, verified unchanged and skipped
    problems: list[str]  # published batches whose files changed or vanished: never rewritten, reported
    adopted: list[str] = field(default_factory=list)  # batch files found in place, byte-identical, recorded

    @property
    def batches(self) -> list[Batch]:
        return sorted([*self.unchanged, *self.published], key=lambda b: (b.published_on, b.batch_id))


def month_batches(conn: duckdb.DuckDBPyConnection, month: str) -> list[Batch]:
    """The batches of delivery month M, in publication order (none before the first publication)."""
    if not table_exists(conn, "publicity", "result_batches"):
        return []
    return [
        Batch(b, f, sha, int(n), pub, int(late), {"utf8": u8, "gb18030": gb})
        for b, f, sha, n, pub, late, u8, gb in run_sql(
            conn, "marts/publicity.result_batches.sql#of_month", {"month": Month.of(month).start}
        )
    ]


def _batch_problems(exports: Path, month: str, b: Batch) -> tuple[list[str], int]:
    """One published batch re-read: its files there, byte for byte as published (SHA-256 on record), passing
    the export check, holding its rows. Returns the problems naming the file, and the rows read."""
    files = export_files.batch_paths(exports, month, b.batch_id)
    changed = [p.name for label, p in files.items() if p.is_file() and sha256_file(p) != b.files_sha256[label]]
    problems = [f"batch {b.batch_id}: {changed} changed since published (never rewritten)"] if changed else []
    found, n = export_rules.verify_files(files)
    problems += [f"batch {b.batch_id}: {p}" for p in found]
    if not found and n != b.rows:
        problems.append(f"batch {b.batch_id}: {n} rows read, {b.rows} published")
    return problems, n


def _batch_workbook_aside(csv_utf8: Path, book: Path, batch_id: str, published: dt.date) -> Path:
    return export_files._workbook_aside(csv_utf8, book, f"公示批次 {published:%Y-%m-%d}", f"批次 {batch_id}", published)


def _ensure_batch_workbook(exports: Path, month: str, b: Batch) -> None:
    """A verified batch without its Excel copy (published before there were any, or the copy deleted) gets it
    from its CSV. An existing copy is left as it is: a published batch's files are never rewritten."""
    files = export_files.batch_paths(exports, month, b.batch_id)
    book = export_files.workbook_path(files)
    if book.exists():
        return
    tmp = _batch_workbook_aside(files["utf8"], book, b.batch_id, b.published_on)
    try:
        os.replace(tmp, book)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def verify_batches(conn: duckdb.DuckDBPyConnection, month: str, exports: Path) -> tuple[list[str], int, int]:
    """Every published batch of month M re-read and checked. Returns (problems, batches, rows read)."""
    problems: list[str] = []
    batches = month_batches(conn, month)
    rows_read = 0
    for b in batches:
        found, n = _batch_problems(exports, month, b)
        problems += found
        rows_read += n
    return problems, len(batches), rows_read


def publish_batches(
    conn: duckdb.DuckDBPyConnection,
    month: str,
    exports: Path,
    config: export_rules.PublicityConfig | None = None,
    *,
    now: dt.datetime | None = None,
) -> BatchesResult:
    """Publish every staged inspections file of delivery month M not yet published as a batch; verify the rest."""
    config = config or export_rules.load_config()
    m = Month.of(month).start
    at = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(tzinfo=None)
    run_sql(conn, "marts/publicity.result_batches.sql")
    run_sql(conn, "marts/publicity.result_batch_rows.sql")
    known = {(b.source_file, b.file_sha256): b for b in month_batches(conn, month)}
    rows = deadlines.results_of_month(conn, month, config)
    published: list[Batch] = []
    adopted: list[str] = []
    for (source_file, sha), part in rows.groupby(["source_file", "file_sha256"], sort=True):
        if (source_file, sha) in known:
            continue  # published before: never rewritten (verified below)
        batch, found_in_place = _publish_batch(conn, m, part, exports, config, at)
        known[(source_file, sha)] = batch
        published.append(batch)
        if found_in_place:
            adopted.append(batch.batch_id)
    problems: list[str] = []
    unchanged: list[Batch] = []
    new = {b.batch_id for b in published}  # verified on the bytes written just now
    for b in known.values():
        if b.batch_id in new:
            continue
        found, _ = _batch_problems(exports, month, b)
        problems += found
        if not found:
            _ensure_batch_workbook(exports, month, b)
            unchanged.append(b)
    return BatchesResult(month=m, published=published, unchanged=unchanged, problems=problems, adopted=adopted)


@contextmanager
def _written_aside(conn: duckdb.DuckDBPyConnection) -> Iterator[dict[str, Path]]:
    """One transaction around files written aside: the caller fills the dict with its temporary files and
    renames them into place before leaving; on any failure the transaction rolls back and what is left of the
    temporary files is removed, so neither the tables nor the folder keep half a publication."""
    temps: dict[str, Path] = {}
    try:
        with transaction(conn):
            yield temps
    except BaseException:
        for tmp in temps.values():
            tmp.unlink(missing_ok=True)
        raise


def _publish_batch(
    conn: duckdb.DuckDBPyConnection,
    month: dt.date,
    part: pd.DataFrame,
    exports: Path,
    config: export_rules.PublicityConfig,
    at: dt.datetime,
) -> tuple[Batch, bool]:
    """Publish one landing file's results as a batch, write-audit-publish; returns it and whether its files
    were already in place (byte-identical: a warehouse rebuilt over the same exports)."""
    source_file, sha = str(part["source_file"].iloc[0]), str(part["file_sha256"].iloc[0])
    arrived, missing = deadlines.arrival_days(part, (at + export_rules.SHANGHAI).date())
    last = arrived.max()
    published, basis = deadlines.publication_day(last, config)
    rows = deadlines.with_deadlines(part, np.full(len(part), np.datetime64(published, "D")), config)
    rows = rows.drop(columns=["file_sha256", "ingested_at"])
    pending = f".pending-{sha}"  # provisional: the final name depends on which names are taken
    rows.insert(0, "batch_id", pending)
    rows.insert(1, "month", month)
    base = f"{published:%Y-%m-%d}_{Path(source_file).stem}"
    taken = {b.batch_id for b in month_batches(conn, f"{month:%Y-%m}")}
    with _written_aside(conn) as temps:
        conn.register("_batch_rows", rows)
        try:
            run_sql(conn, "marts/publicity.result_batch_rows.sql#insert_pending")
        finally:
            conn.unregister("_batch_rows")
        table = export_files.batch_frame(conn, pending)
        scratch = export_files.batch_paths(exports, f"{month:%Y-%m}", base)
        temps.update(export_files._write_aside(table, scratch))
        problems, _ = export_rules.verify_files(temps)  # the audit reads exactly the bytes about to be published
        if problems:
            raise export_rules.ExportRefused(f"one-public batch {base} ({source_file}) refused: " + "; ".join(problems))
        digests = {label: sha256_file(tmp) for label, tmp in temps.items()}
        batch_id, in_place = _name(exports, month, base, sha, taken, digests)
        run_sql(
            conn,
            "marts/publicity.result_batches.sql#record",
            {
                "batch_id": batch_id,
                "pending": pending,
                "month": month,
                "source_file": source_file,
                "file_sha256": sha,
                "row_count": len(rows),
                "arrived_on": last.astype(dt.date),
                "rows_without_recorded_on": int(missing.sum()),
                "published_on": published,
                "publication_basis": basis,
                "late_rows": int(rows["late"].sum()),
                "utf8_sha256": digests["utf8"],
                "gb18030_sha256": digests["gb18030"],
                "published_at": at,
            },
        )
        targets = export_files.batch_paths(exports, f"{month:%Y-%m}", batch_id)
        book = export_files.workbook_path(targets)
        if not (in_place and book.exists()):  # adopted CSVs keep their workbook; a missing one is made
            temps["xlsx"] = _batch_workbook_aside(temps["utf8"], book, batch_id, published)
        places = {**targets, "xlsx": book}
        for label, tmp in temps.items():  # the CSVs first: a workbook never stands without its CSVs
            if in_place and label != "xlsx":
                tmp.unlink()
            else:
                # Never over an existing file: _name chose a name whose files do not exist. The pipeline is the
                # only writer of exports/ (one run at a time on the duckdb pool), so nothing appears meanwhile.
                os.replace(tmp, places[label])
    batch = Batch(batch_id, source_file, sha, len(rows), published, int(rows["late"].sum()), digests)
    return batch, in_place


def _name(
    exports: Path, month: dt.date, base: str, sha: str, taken: set[str], digests: Mapping[str, str]
) -> tuple[str, bool]:
    """The batch's name: `<publication date>_<file stem>`, or with the file's SHA-256 prefix when another batch
    (a corrected file under the same name, delivered for the same day) has it. Files already there under a free
    name are adopted only when byte-identical; a published file is never overwritten."""
    for name in (base, f"{base}_{sha[:8]}"):
        if name in taken:
            continue
        targets = export_files.batch_paths(exports, f"{month:%Y-%m}", name)
        present = [label for label, p in targets.items() if p.exists()]
        if not present:
            return name, False
        if len(present) == len(targets) and all(sha256_file(targets[k]) == digests[k] for k in targets):
            return name, True
    folder = export_files.folder_of(exports, f"{month:%Y-%m}") / export_rules.BATCH_DIR
    raise export_rules.ExportRefused(
        f"one-public batch {base}: files of that name exist with other content under {folder}; "
        "a published batch is never overwritten"
    )
