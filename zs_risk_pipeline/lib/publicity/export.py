"""One-public export of inspection results (一公开：抽查检查结果公示), published on arrival, with late flags.

Results must be public within 20 working days of the day they were formed (自抽查检查结果形成之日起20个工作日内,
国发〔2019〕5号). So they are published as they arrive, not once a month:

- `publish_batches(conn, month, exports)`: every inspections landing file of delivery month M that is staged and
  not yet published becomes an immutable batch (随到随公示批次) under `exports/publicity/<YYYY-MM>/batches/`,
  named `<publication date>_<file stem>` (plus the file's SHA-256 prefix when that name is taken). Its publication
  date (公示日期) is the first working day after the latest day the source entered one of its results
  (recorded_on, 录入日期); a row without recorded_on counts as entered on the day its file was ingested (Asia/
  Shanghai). A batch once published is never rewritten: a rerun verifies its files and skips it; a file whose
  bytes changed is another batch. publicity.result_batches and publicity.result_batch_rows record them.
- `export_month(conn, month, exports)`: the month's record (`exports/publicity/<YYYY-MM>/`), every result of M
  dated by the batch that first published it. A result is late (是否超期) when that date is after its deadline,
  the 20th working day after the inspection: published on arrival, a late result is one its source delivered
  late, never one held back by zs-risk's schedule.

Both publish write-audit-publish:
1. the rows go into the warehouse in a transaction left open;
2. both files are written aside under hidden names (UTF-8 with BOM, and GB18030 for Excel);
3. `verify_files` re-reads exactly those bytes and runs the export check;
4. the Excel copy (`<stem>.xlsx`, every cell text: Excel would turn an all-digit USCC into a rounded number) is
   made from the checked UTF-8 bytes, aside as well;
5. only then are the files renamed into place and the transaction committed.
A failing check rolls back, removes the hidden files, leaves the previous files and raises.

The export check ("no tier, score or stratum", design §5), decided as what can be sound:
- the columns are exactly EXPORT_COLUMNS, in order (an allowlist: anything else is refused, whatever its name);
- no column name looks like internal risk data (FORBIDDEN_NAME, English and Chinese, case-insensitive), a
  second guard that also stops a bad edit of the allowlist itself;
- every code-like column holds only its domain (USCC format, ISO dates, 是/否, the fixed type and calendar
  labels), so a tier letter or a score cannot ride in a coded column; the plan columns - where a per-stratum
  plan would show its stratum - must not name a tier or risk class (TIER_WORDING).
Not done, on purpose: matching free-text values (names, result text, authority) against tiers or scores. A
letter or a number legitimately occurs there, so such a scan would block good files without proving anything.
The export's SQL never reads tiers, frames or scores (sql/publicity/), which the tests assert as behaviour.
Plain Python, no Dagster.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import yaml

from zs_risk_pipeline.lib.core import settings, workdays, xlsx
from zs_risk_pipeline.lib.core.digest import sha256_file
from zs_risk_pipeline.lib.core.sql import load_sql, render, run_sql
from zs_risk_pipeline.lib.ingest import uscc
from zs_risk_pipeline.lib.ingest.staging import month_end, month_start

CONFIG_PATH = workdays.CONFIG_PATH
FILE_STEM = "inspection_results"
SOURCES = ("registry", "plans")  # read for names; a batch may come before either is staged
BATCH_DIR = "batches"  # exports/publicity/<YYYY-MM>/batches/: the batches published on arrival
SHANGHAI = dt.timedelta(hours=8)  # Asia/Shanghai is UTC+8 all year (no daylight saving since 1991)
ENCODINGS = {"utf8": "utf-8-sig", "gb18030": "gb18030"}  # BOM in the UTF-8 file: Excel opens it right
ENCODING_NAMES = {"utf8": "UTF-8 with BOM", "gb18030": "GB18030"}
TYPE_LABELS = {"random": "双随机抽查", "triggered": "触发式检查", "special": "专项检查"}

# The contract of the file the publicity system takes, in order.
EXPORT_COLUMNS = (
    "任务编号",
    "统一社会信用代码",
    "企业名称",
    "抽查计划编号",
    "抽查计划名称",
    "检查类型",
    "检查实施机关",
    "检查日期",
    "检查结果",
    "公示日期",
    "公示截止日期",
    "是否超期",
    "截止日期口径",
)

FORBIDDEN_NAME = re.compile(
    r"tier|grade|rating|rank|score|prob|point|strat|risk|inclusion|(?<![a-z])pi(?![a-z])|π"
    r"|分类|等级|评级|级别|分值|得分|评分|分数|概率|入选|层|风险|积分",
    re.IGNORECASE,
)
TIER_WORDING = re.compile(
    r"(?<![A-Za-z])[ABCD]\s*[类级档]|(?:低|中|一般|较高|高)风险|风险(?:分类|等级|分级|类别)|信用(?:风险|等级)|分层"
    r"|(?i:\btiers?\b|strat(?:um|a)\b|\bscore)"
)
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DOMAINS: dict[str, Any] = {
    "任务编号": lambda s: s.str.strip() != "",
    "统一社会信用代码": lambda s: s.str.fullmatch(uscc.FORMAT_RE.pattern),
    "检查类型": lambda s: s.isin(TYPE_LABELS.values()),
    "检查日期": lambda s: s.str.fullmatch(_ISO_DATE.pattern),
    "公示日期": lambda s: s.str.fullmatch(_ISO_DATE.pattern),
    "公示截止日期": lambda s: s.str.fullmatch(_ISO_DATE.pattern),
    "是否超期": lambda s: s.isin(["是", "否"]),
    "截止日期口径": lambda s: s.isin(workdays.BASIS_ZH.values()),
    "抽查计划编号": lambda s: ~s.str.contains(TIER_WORDING),
    "抽查计划名称": lambda s: ~s.str.contains(TIER_WORDING),
}


class ExportRefused(RuntimeError):
    """The export check failed on the files written aside: nothing was published, the previous files stand."""


# --- configuration ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PublicityConfig:
    """The validated config/publicity.yaml."""

    version: int
    deadline_working_days: int
    departments: Mapping[str, str]
    calendar: workdays.Calendar


_KEYS = {"version", "deadline_working_days", "departments", "calendar"}


def load_config(path: Path | None = None) -> PublicityConfig:
    """Read and validate config/publicity.yaml (or `path`); errors name the file and the field."""
    path = path or CONFIG_PATH
    name = path.name
    doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(doc, dict):
        raise ValueError(f"{name}: expected a mapping at the top level")
    unknown = sorted(set(doc) - _KEYS)
    if unknown:
        raise ValueError(f"{name}: unknown keys {unknown} (allowed: {sorted(_KEYS)})")

    def positive(key: str, upper: int) -> int:
        v = doc.get(key)
        if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= upper:
            raise ValueError(f"{name}: {key} must be an integer from 1 to {upper}, got {v!r}")
        return v

    departments = doc.get("departments") or {}
    if not isinstance(departments, dict) or not all(
        isinstance(k, str) and k.strip() and isinstance(v, str) and v.strip() for k, v in departments.items()
    ):
        raise ValueError(f"{name}: departments must map member-unit codes to authority names (both texts)")
    return PublicityConfig(
        version=positive("version", 1000),
        deadline_working_days=positive("deadline_working_days", 250),
        departments={k.strip(): v.strip() for k, v in departments.items()},
        calendar=workdays.parse_calendar(doc.get("calendar"), name),
    )


# --- the export check -------------------------------------------------------------------------------------


def check_columns(columns: Sequence[str]) -> list[str]:
    """Problems with an export's header: columns outside the contract, missing or out of order, and any
    name that looks like internal risk data (tier, score, stratum, …)."""
    problems = []
    cols = [str(c) for c in columns]
    extra = [c for c in cols if c not in EXPORT_COLUMNS]
    missing = [c for c in EXPORT_COLUMNS if c not in cols]
    if extra:
        problems.append(f"columns not in the one-public contract: {extra}")
    if missing:
        problems.append(f"contract columns missing: {missing}")
    if not extra and not missing and tuple(cols) != EXPORT_COLUMNS:
        problems.append(f"columns out of the contract's order or repeated: {cols}")
    risky = [c for c in cols if FORBIDDEN_NAME.search(c)]
    if risky:
        problems.append(f"columns named like internal risk data (tier/score/stratum): {risky}")
    return problems


def check_values(frame: pd.DataFrame) -> list[str]:
    """Problems with the values of the code-like columns: each must hold only its domain."""
    problems = []
    for column, valid in _DOMAINS.items():
        if column not in frame.columns:
            continue
        values = frame[column].fillna("").astype(str)
        ok = valid(values).fillna(False).astype(bool)
        bad = values[~ok]
        if len(bad):
            problems.append(f"column {column}: {len(bad)} values outside its domain, e.g. {bad.unique()[:3].tolist()}")
    return problems


def check_export(frame: pd.DataFrame) -> list[str]:
    """Every problem of an export table: header first, then values."""
    return check_columns(list(frame.columns)) + check_values(frame)


def read_export(path: Path, label: str) -> pd.DataFrame:
    """An export file as the public reads it: every cell as text, empty cells as ''."""
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding=ENCODINGS[label])


def verify_files(files: Mapping[str, Path]) -> tuple[list[str], int]:
    """Re-read export files (label → path) and check them: decoding, BOM, the export check, and the same
    table in every encoding. Problems name the file; also the rows read."""
    problems: list[str] = []
    frames: dict[str, pd.DataFrame] = {}
    for label, path in files.items():
        where = Path(path).name
        if not Path(path).is_file():
            problems.append(f"{where}: missing")
            continue
        with Path(path).open("rb") as f:
            head = f.read(3)
        if label == "utf8" and head != b"\xef\xbb\xbf":
            problems.append(f"{where}: no UTF-8 byte-order mark")
        try:
            frames[label] = read_export(path, label)
        except (UnicodeDecodeError, pd.errors.ParserError) as e:
            problems.append(f"{where}: does not read as {ENCODING_NAMES[label]} CSV ({e})")
            continue
        problems += [f"{where}: {p}" for p in check_export(frames[label])]
    tables = list(frames.values())
    if len(tables) > 1 and not all(t.equals(tables[0]) for t in tables[1:]):
        problems.append(f"the encodings {sorted(frames)} do not hold the same table")
    return problems, (len(tables[0]) if tables else 0)


# --- rows, deadlines and publication dates ------------------------------------------------------------------


def _days(series: pd.Series) -> np.ndarray:
    return pd.to_datetime(series).to_numpy().astype("datetime64[D]")


def results_of_month(conn: duckdb.DuckDBPyConnection, month: str, config: PublicityConfig) -> pd.DataFrame:
    """The results delivered in month M as the public sees them, with the day each arrived and its landing file."""
    codes = sorted(config.departments)
    staged = {t: run_sql(conn, "meta/table_exists.sql", {"schema": "staging", "table": t})[0][0] for t in SOURCES}
    if not all(staged.values()):
        run_sql(conn, "publicity/empty_sources.sql")
    schemas = {f"{t}_schema": "staging" if ok else "temp" for t, ok in staged.items()}
    return conn.execute(
        render("publicity/results_of_month.sql", schemas),
        {
            "month": month_start(month),
            "month_end": month_end(month),
            "dept_codes": codes,
            "dept_names": [config.departments[c] for c in codes],
        },
    ).df()


def with_deadlines(rows: pd.DataFrame, published: np.ndarray, config: PublicityConfig) -> pd.DataFrame:
    """The rows with deadline, publication date, late flag, working days taken and calendar basis."""
    calendar = config.calendar
    rows = rows.copy()
    # The result is formed on the inspection day: the delivery carries no earlier date for it.
    formed = _days(rows["inspected_on"])
    pub = np.asarray(published, dtype="datetime64[D]")
    due = workdays.add_workdays(formed, config.deadline_working_days, calendar)
    # The row's basis is the weakest calendar any of its dates used: deadline, publication and the count between.
    basis = workdays.basis_between(formed + 1, np.maximum(due.dates, pub), calendar)
    rows["inspected_on"] = formed.astype(object)
    rows["deadline"] = due.dates.astype(object)
    rows["published_on"] = pub.astype(object)
    rows["late"] = pub > due.dates
    rows["working_days_taken"] = workdays.workdays_after_until(formed, pub, calendar).astype("int32")
    rows["deadline_basis"] = basis
    return rows


def arrival_days(rows: pd.DataFrame, today: dt.date) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the day it reached zs-risk: its recorded_on (录入日期), else the day its file was ingested in
    Asia/Shanghai, else `today` (no ingestion on record); and whether recorded_on was missing."""
    recorded = _days(rows["recorded_on"])
    missing = np.isnat(recorded)
    ingested = pd.to_datetime(rows["ingested_at"]) + SHANGHAI  # ingested_at is stored in UTC
    fallback = ingested.to_numpy().astype("datetime64[D]")
    fallback = np.where(np.isnat(fallback), np.datetime64(today, "D"), fallback)
    return np.where(missing, fallback, recorded), missing


def publication_day(arrived: dt.date | np.datetime64, config: PublicityConfig) -> tuple[dt.date, str]:
    """The publication date (公示日期) of a batch that arrived on `arrived`: the first working day after it."""
    nxt = workdays.add_workdays(np.datetime64(arrived, "D"), 1, config.calendar)
    return nxt.dates[0].astype(dt.date), str(nxt.basis[0])


def _export_table(conn: duckdb.DuckDBPyConnection, table: str, key: str, value: Any) -> pd.DataFrame:
    bases = list(workdays.BASES)
    return conn.execute(
        render("publicity/export.sql", {"table": table, "key": key}),
        {
            "key": value,
            "types": list(TYPE_LABELS),
            "type_labels": list(TYPE_LABELS.values()),
            "bases": bases,
            "basis_labels": [workdays.BASIS_ZH[b] for b in bases],
        },
    ).df()


def export_frame(conn: duckdb.DuckDBPyConnection, month: dt.date) -> pd.DataFrame:
    """The public table of month M from publicity.inspection_results, with the contract's Chinese headers."""
    return _export_table(conn, "inspection_results", "month", month)


def batch_frame(conn: duckdb.DuckDBPyConnection, batch_id: str) -> pd.DataFrame:
    """The public table of one batch from publicity.result_batch_rows: the same columns as the month's."""
    return _export_table(conn, "result_batch_rows", "batch_id", batch_id)


# --- where the files go -----------------------------------------------------------------------------------


def folder_of(exports: Path, month: str) -> Path:
    return Path(exports) / "publicity" / f"{month_start(month):%Y-%m}"


def file_paths(exports: Path, month: str) -> dict[str, Path]:
    """The published files of month M's record: label → path."""
    folder = folder_of(exports, month)
    return {label: folder / f"{FILE_STEM}.{label}.csv" for label in ENCODINGS}


def batch_paths(exports: Path, month: str, batch_id: str) -> dict[str, Path]:
    """The published files of one batch of month M: label → path."""
    folder = folder_of(exports, month) / BATCH_DIR
    return {label: folder / f"{batch_id}.{label}.csv" for label in ENCODINGS}


def _write_aside(table: pd.DataFrame, targets: Mapping[str, Path]) -> dict[str, Path]:
    """Both encodings written under hidden names beside their targets; returns label → hidden path."""
    temps = {label: path.parent / f".{path.name}.tmp" for label, path in targets.items()}
    for label, tmp in temps.items():
        tmp.parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(tmp, index=False, encoding=ENCODINGS[label], lineterminator="\n")
    return temps


def workbook_path(files: Mapping[str, Path]) -> Path:
    """The Excel copy beside an export's CSVs (label → path): `<stem>.xlsx`."""
    return xlsx.path_for(files["utf8"])


def _workbook_aside(csv_utf8: Path, target: Path, sheet: str, title: str, day: dt.date) -> Path:
    """The Excel copy of a checked CSV, from its bytes (the same columns: no tier, score or stratum), under a
    hidden name beside `target`: every cell text, so an all-digit USCC keeps its 18 digits; dated `day`, so the
    same file gives the same bytes."""
    return xlsx.write_aside(
        read_export(csv_utf8, "utf8"),
        target,
        sheet,
        dt.datetime(day.year, day.month, day.day),
        title=f"抽查检查结果公示（一公开） {title}",
    )


# --- the batches, published on arrival --------------------------------------------------------------------


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
    if not run_sql(conn, "meta/table_exists.sql", {"schema": "publicity", "table": "result_batches"})[0][0]:
        return []
    return [
        Batch(b, f, sha, int(n), pub, int(late), {"utf8": u8, "gb18030": gb})
        for b, f, sha, n, pub, late, u8, gb in run_sql(
            conn, "publicity/batches_of_month.sql", {"month": month_start(month)}
        )
    ]


def _batch_problems(exports: Path, month: str, b: Batch) -> tuple[list[str], int]:
    """One published batch re-read: its files there, byte for byte as published (SHA-256 on record), passing
    the export check, holding its rows. Returns the problems naming the file, and the rows read."""
    files = batch_paths(exports, month, b.batch_id)
    changed = [p.name for label, p in files.items() if p.is_file() and sha256_file(p) != b.files_sha256[label]]
    problems = [f"batch {b.batch_id}: {changed} changed since published (never rewritten)"] if changed else []
    found, n = verify_files(files)
    problems += [f"batch {b.batch_id}: {p}" for p in found]
    if not found and n != b.rows:
        problems.append(f"batch {b.batch_id}: {n} rows read, {b.rows} published")
    return problems, n


def _batch_workbook_aside(csv_utf8: Path, book: Path, batch_id: str, published: dt.date) -> Path:
    return _workbook_aside(csv_utf8, book, f"公示批次 {published:%Y-%m-%d}", f"批次 {batch_id}", published)


def _ensure_batch_workbook(exports: Path, month: str, b: Batch) -> None:
    """A verified batch without its Excel copy (published before there were any, or the copy deleted) gets it
    from its CSV. An existing copy is left as it is: a published batch's files are never rewritten."""
    files = batch_paths(exports, month, b.batch_id)
    book = workbook_path(files)
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
    config: PublicityConfig | None = None,
    *,
    now: dt.datetime | None = None,
) -> BatchesResult:
    """Publish every staged inspections file of delivery month M not yet published as a batch; verify the rest."""
    config = config or load_config()
    m = month_start(month)
    at = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(tzinfo=None)
    run_sql(conn, "publicity/batches_setup.sql")
    known = {(b.source_file, b.file_sha256): b for b in month_batches(conn, month)}
    rows = results_of_month(conn, month, config)
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
    conn.execute("BEGIN TRANSACTION")
    try:
        yield temps
        conn.execute("COMMIT")
    except BaseException:
        try:
            conn.execute("ROLLBACK")
        finally:
            for tmp in temps.values():
                tmp.unlink(missing_ok=True)
        raise


def _publish_batch(
    conn: duckdb.DuckDBPyConnection,
    month: dt.date,
    part: pd.DataFrame,
    exports: Path,
    config: PublicityConfig,
    at: dt.datetime,
) -> tuple[Batch, bool]:
    """Publish one landing file's results as a batch, write-audit-publish; returns it and whether its files
    were already in place (byte-identical: a warehouse rebuilt over the same exports)."""
    source_file, sha = str(part["source_file"].iloc[0]), str(part["file_sha256"].iloc[0])
    arrived, missing = arrival_days(part, (at + SHANGHAI).date())
    last = arrived.max()
    published, basis = publication_day(last, config)
    rows = with_deadlines(part, np.full(len(part), np.datetime64(published, "D")), config)
    rows = rows.drop(columns=["file_sha256", "ingested_at"])
    pending = f".pending-{sha}"  # provisional: the final name depends on which names are taken
    rows.insert(0, "batch_id", pending)
    rows.insert(1, "month", month)
    base = f"{published:%Y-%m-%d}_{Path(source_file).stem}"
    taken = {b.batch_id for b in month_batches(conn, f"{month:%Y-%m}")}
    with _written_aside(conn) as temps:
        conn.register("_batch_rows", rows)
        try:
            run_sql(conn, "publicity/batch_insert.sql")
        finally:
            conn.unregister("_batch_rows")
        table = batch_frame(conn, pending)
        scratch = batch_paths(exports, f"{month:%Y-%m}", base)
        temps.update(_write_aside(table, scratch))
        problems, _ = verify_files(temps)  # the audit reads exactly the bytes about to be published
        if problems:
            raise ExportRefused(f"one-public batch {base} ({source_file}) refused: " + "; ".join(problems))
        digests = {label: sha256_file(tmp) for label, tmp in temps.items()}
        batch_id, in_place = _name(exports, month, base, sha, taken, digests)
        run_sql(
            conn,
            "publicity/batch_name.sql",
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
        targets = batch_paths(exports, f"{month:%Y-%m}", batch_id)
        book = workbook_path(targets)
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
        targets = batch_paths(exports, f"{month:%Y-%m}", name)
        present = [label for label, p in targets.items() if p.exists()]
        if not present:
            return name, False
        if len(present) == len(targets) and all(sha256_file(targets[k]) == digests[k] for k in targets):
            return name, True
    raise ExportRefused(
        f"one-public batch {base}: files of that name exist with other content under "
        f"{folder_of(exports, f'{month:%Y-%m}') / BATCH_DIR}; a published batch is never overwritten"
    )


# --- the month's record -----------------------------------------------------------------------------------


class NotYetPublished(ExportRefused):
    """Results of the month have no batch yet: publish the batches (publicity/result_batches) first."""


def month_rows(conn: duckdb.DuckDBPyConnection, month: str, config: PublicityConfig) -> pd.DataFrame:
    """The month's results, each dated by the batch that first published it, with deadline, late flag, working
    days taken and calendar basis."""
    m = month_start(month)
    rows = results_of_month(conn, month, config)
    exists = run_sql(conn, "meta/table_exists.sql", {"schema": "publicity", "table": "result_batch_rows"})[0][0]
    first = (
        conn.execute(load_sql("publicity/first_publication.sql"), {"month": m}).df()
        if exists
        else pd.DataFrame({"task_id": pd.Series(dtype=str), "batch_id": pd.Series(dtype=str), "published_on": []})
    )
    rows = rows.merge(first, on="task_id", how="left")
    unpublished = rows.loc[rows["batch_id"].isna(), "source_file"]
    if len(unpublished):
        raise NotYetPublished(
            f"one-public export of {m:%Y-%m}: {len(unpublished)} results not yet published in a batch (from "
            f"{sorted(set(unpublished))[:3]}); publish the batches (publicity/result_batches) first"
        )
    rows = with_deadlines(rows, _days(rows["published_on"]), config)
    rows.insert(0, "month", m)
    return rows.drop(columns=["source_file", "file_sha256", "ingested_at"])


@dataclass(frozen=True)
class ExportResult:
    month: dt.date
    rows: int
    late: int
    late_examples: list[dict[str, str]]
    batches: int  # batches that first published the month's results
    first_published: dt.date | None
    last_published: dt.date | None
    deadline_working_days: int
    files: dict[str, str]  # path → SHA-256
    rows_by_basis: dict[str, int]
    calendar_basis_by_year: dict[str, str]
    configured_years_ignored: list[int]
    departments_unmapped: dict[str, int] = field(default_factory=dict)
    names_missing: int = 0


def export_month(
    conn: duckdb.DuckDBPyConnection, month: str, exports: Path, config: PublicityConfig | None = None
) -> ExportResult:
    """Publish month M's record of inspection results (table and both files), write-audit-publish."""
    config = config or load_config()
    m = month_start(month)
    rows = month_rows(conn, month, config)
    targets = file_paths(exports, month)
    folder = folder_of(exports, month)
    folder.mkdir(parents=True, exist_ok=True)
    with _written_aside(conn) as temps:
        conn.register("_publicity_rows", rows)
        try:
            run_sql(conn, "publicity/replace_month.sql", {"month": m})
        finally:
            conn.unregister("_publicity_rows")
        temps.update(_write_aside(export_frame(conn, m), targets))
        problems, _ = verify_files(temps)  # the audit reads exactly the bytes about to be published
        if problems:
            raise ExportRefused(
                f"one-public export of {m:%Y-%m} refused, the previous files stand: " + "; ".join(problems)
            )
        book = workbook_path(targets)
        temps["xlsx"] = _workbook_aside(temps["utf8"], book, f"检查结果公示 {m:%Y-%m}", f"{m:%Y-%m}", m)
        _keep_superseded(targets, temps, folder, companions=[book])
        places = {**targets, "xlsx": book}
        for label, tmp in temps.items():
            os.replace(tmp, places[label])
    late = rows[rows["late"]]
    dates = [*rows["published_on"], *rows["deadline"]]
    years = range(m.year, max([m, *dates]).year + 1)
    unmapped = rows.loc[rows["department"] == rows["department_code"], "department_code"].value_counts()
    return ExportResult(
        month=m,
        rows=len(rows),
        late=len(late),
        late_examples=[
            {
                "task_id": str(r.task_id),
                "inspected_on": str(r.inspected_on),
                "deadline": str(r.deadline),
                "recorded_on": "" if pd.isna(r.recorded_on) else str(pd.Timestamp(r.recorded_on).date()),
                "published_on": str(r.published_on),
                "working_days_taken": str(r.working_days_taken),
            }
            for r in late.head(10).itertuples()
        ],
        batches=int(rows["batch_id"].nunique()),
        first_published=min(rows["published_on"]) if len(rows) else None,
        last_published=max(rows["published_on"]) if len(rows) else None,
        deadline_working_days=config.deadline_working_days,
        files={str(p): sha256_file(p) for p in targets.values()},
        rows_by_basis={b: int(n) for b, n in rows["deadline_basis"].value_counts().sort_index().items()},
        calendar_basis_by_year={str(y): config.calendar.basis(y) for y in years},
        configured_years_ignored=config.calendar.ignored_years,
        departments_unmapped={str(k): int(v) for k, v in unmapped.sort_index().items()},
        names_missing=int(rows["name"].isna().sum()),
    )


def _keep_superseded(
    targets: dict[str, Path], temps: dict[str, Path], folder: Path, companions: Sequence[Path] = ()
) -> Path | None:
    """A month exported before with other content (a rerun after late results) keeps its earlier files under
    superseded/v<k>/: what went to the publicity system stays on record. Unchanged content keeps nothing.
    The CSVs decide; `companions` (the Excel copy derived from them) go along with them."""
    old = [p for p in targets.values() if p.exists()]
    if not old or all(sha256_file(targets[k]) == sha256_file(temps[k]) for k in targets if targets[k].exists()):
        return None
    keep = folder / "superseded" / f"v{len(list((folder / 'superseded').glob('v*'))) + 1}"
    keep.mkdir(parents=True)
    for path in [*old, *(p for p in companions if p.exists())]:
        os.replace(path, keep / path.name)
    return keep


def late_rows(conn: duckdb.DuckDBPyConnection, month: str) -> list[tuple]:
    """The month's results published after their deadline (task, uscc, inspected, deadline, recorded, published,
    batch, days, basis), oldest first."""
    return run_sql(conn, "publicity/late_rows.sql", {"month": month_start(month)})


# --- demo printout ------------------------------------------------------------------------------------------


def summary_lines(paths: settings.Paths | Path, conn: duckdb.DuckDBPyConnection, month: str | None = None) -> list[str]:
    """What the one-public export holds for month M (default: the latest exported): rows, batches, late rows,
    files; and the late rows of every exported month."""
    exports = paths.exports if isinstance(paths, settings.Paths) else Path(paths)
    if not run_sql(conn, "meta/table_exists.sql", {"schema": "publicity", "table": "inspection_results"})[0][0]:
        return ["One-public export (一公开): no inspection results exported yet"]
    latest = run_sql(conn, "publicity/latest_month.sql")[0][0]
    if month is None and latest is None:
        return ["One-public export (一公开): no inspection results exported yet"]
    m = month_start(month) if month else latest
    rows, late, not_statutory, batches, first, last = run_sql(conn, "publicity/month_summary.sql", {"month": m})[0]
    files = file_paths(exports, f"{m:%Y-%m}")
    n = load_config().deadline_working_days
    span = f"{first} … {last}" if first != last else f"{first}"
    lines = [
        f"One-public export of inspection results (一公开) {m:%Y-%m}: {rows:,} results, published on arrival in "
        f"{batches} batches ({span}); {late:,} after the {n}-working-day deadline (是否超期=是)",
        f"  {files['utf8']} (UTF-8 with BOM), {files['gb18030'].name} (GB18030) and "
        f"{workbook_path(files).name} (Excel, codes as text), the month's record; the "
        f"batches under {folder_of(exports, f'{m:%Y-%m}') / BATCH_DIR}: no tier, score or stratum",
    ]
    if not_statutory:
        lines.append(f"  {not_statutory:,} deadlines counted without the statutory holiday schedule (截止日期口径)")
    by_month = run_sql(conn, "publicity/late_by_month.sql")
    late_months = [(mo, k) for mo, _, k in by_month if k]
    lines.append(
        "  late results by month (each delivered late by its source): "
        + (", ".join(f"{mo} {k:,}" for mo, k in late_months) or "none")
        + f"; {len(by_month) - len(late_months)} of {len(by_month)} exported months without any"
    )
    return lines
