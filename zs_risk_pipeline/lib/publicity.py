"""One-public export of inspection results (一公开：抽查检查结果公示), with late flags on the working-day calendar.

`export_month(conn, month, exports)` takes the inspection results delivered in month M (every kind: double-random,
triggered, special), adds each result's publication deadline - the 20th working day after the day the result
was formed (自抽查检查结果形成之日起20个工作日内, 国发〔2019〕5号) - and the publication day (the configured day
of M+1, on a working day), and publishes, write-audit-publish:

1. publicity.inspection_results gets the month's rows, in a transaction left open;
2. both files are written aside under hidden names (UTF-8 with BOM, and GB18030 for Excel);
3. `verify_files` re-reads exactly those bytes and runs the export check;
4. only then are the files renamed into `exports/publicity/<YYYY-MM>/` and the transaction committed.
A failing check rolls the month back, removes the hidden files, leaves the previous files and raises.

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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import yaml

from zs_risk_pipeline.lib import settings, uscc, workdays
from zs_risk_pipeline.lib.digest import sha256_file
from zs_risk_pipeline.lib.ingest import month_end, month_start
from zs_risk_pipeline.lib.sql import load_sql, run_sql

CONFIG_PATH = workdays.CONFIG_PATH
FILE_STEM = "inspection_results"
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
    publication_day: int
    departments: Mapping[str, str]
    calendar: workdays.Calendar


_KEYS = {"version", "deadline_working_days", "publication_day", "departments", "calendar"}


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
        # Up to the 28th: every month has it.
        publication_day=positive("publication_day", 28),
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


# --- the month's rows ---------------------------------------------------------------------------------------


def publication_date(month: str, config: PublicityConfig) -> tuple[dt.date, str]:
    """The day month M's results are published: the configured day of M+1, or the next working day after it."""
    nxt = month_end(month) + dt.timedelta(days=1)
    rolled = workdays.roll_forward(nxt.replace(day=config.publication_day), config.calendar)
    return rolled.dates[0].astype(dt.date), str(rolled.basis[0])


def _days(series: pd.Series) -> np.ndarray:
    return pd.to_datetime(series).to_numpy().astype("datetime64[D]")


def month_rows(conn: duckdb.DuckDBPyConnection, month: str, config: PublicityConfig) -> pd.DataFrame:
    """The month's results with deadline, publication day, late flag, working days taken and calendar basis."""
    m, end = month_start(month), month_end(month)
    codes = sorted(config.departments)
    rows = conn.execute(
        load_sql("publicity/results_of_month.sql"),
        {"month": m, "month_end": end, "dept_codes": codes, "dept_names": [config.departments[c] for c in codes]},
    ).df()
    calendar = config.calendar
    # The result is formed on the inspection day: the delivery carries no later date for it.
    formed = _days(rows["inspected_on"])
    due = workdays.add_workdays(formed, config.deadline_working_days, calendar)
    published, _ = publication_date(month, config)
    pub = np.full(formed.shape, np.datetime64(published, "D"))
    # The row's basis is the weakest calendar any of its dates used: deadline, publication and the count between.
    basis = workdays.basis_between(formed + 1, np.maximum(due.dates, pub), calendar)
    rows.insert(0, "month", m)
    rows["inspected_on"] = formed.astype(object)
    rows["deadline"] = due.dates.astype(object)
    rows["published_on"] = pub.astype(object)
    rows["late"] = pub > due.dates
    rows["working_days_taken"] = workdays.workdays_after_until(formed, pub, calendar).astype("int32")
    rows["deadline_basis"] = basis
    return rows


def export_frame(conn: duckdb.DuckDBPyConnection, month: dt.date) -> pd.DataFrame:
    """The public table of month M from publicity.inspection_results, with the contract's Chinese headers."""
    bases = list(workdays.BASES)
    return conn.execute(
        load_sql("publicity/export.sql"),
        {
            "month": month,
            "types": list(TYPE_LABELS),
            "type_labels": list(TYPE_LABELS.values()),
            "bases": bases,
            "basis_labels": [workdays.BASIS_ZH[b] for b in bases],
        },
    ).df()


# --- write, audit, publish ----------------------------------------------------------------------------------


def folder_of(exports: Path, month: str) -> Path:
    return Path(exports) / "publicity" / f"{month_start(month):%Y-%m}"


def file_paths(exports: Path, month: str) -> dict[str, Path]:
    """The published files of month M: label → path."""
    folder = folder_of(exports, month)
    return {label: folder / f"{FILE_STEM}.{label}.csv" for label in ENCODINGS}


@dataclass(frozen=True)
class ExportResult:
    month: dt.date
    rows: int
    late: int
    late_examples: list[dict[str, str]]
    published_on: dt.date
    publication_basis: str
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
    """Publish month M's inspection results to the public (table and both files), write-audit-publish."""
    config = config or load_config()
    m = month_start(month)
    rows = month_rows(conn, month, config)
    published, pub_basis = publication_date(month, config)
    targets = file_paths(exports, month)
    folder = folder_of(exports, month)
    folder.mkdir(parents=True, exist_ok=True)
    temps = {label: folder / f".{path.name}.tmp" for label, path in targets.items()}
    conn.execute("BEGIN TRANSACTION")
    try:
        conn.register("_publicity_rows", rows)
        try:
            run_sql(conn, "publicity/replace_month.sql", {"month": m})
        finally:
            conn.unregister("_publicity_rows")
        table = export_frame(conn, m)
        for label, tmp in temps.items():
            table.to_csv(tmp, index=False, encoding=ENCODINGS[label], lineterminator="\n")
        problems, _ = verify_files(temps)  # the audit reads exactly the bytes about to be published
        if problems:
            raise ExportRefused(
                f"one-public export of {m:%Y-%m} refused, the previous files stand: " + "; ".join(problems)
            )
        _keep_superseded(targets, temps, folder)
        for label, tmp in temps.items():
            os.replace(tmp, targets[label])
        conn.execute("COMMIT")
    except BaseException:
        try:
            conn.execute("ROLLBACK")
        finally:
            for tmp in temps.values():
                tmp.unlink(missing_ok=True)
        raise
    late = rows[rows["late"]]
    last = max(published, rows["deadline"].max()) if len(rows) else published
    years = range(m.year, last.year + 1)
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
                "working_days_taken": str(r.working_days_taken),
            }
            for r in late.head(10).itertuples()
        ],
        published_on=published,
        publication_basis=pub_basis,
        deadline_working_days=config.deadline_working_days,
        files={str(p): sha256_file(p) for p in targets.values()},
        rows_by_basis={b: int(n) for b, n in rows["deadline_basis"].value_counts().sort_index().items()},
        calendar_basis_by_year={str(y): config.calendar.basis(y) for y in years},
        configured_years_ignored=config.calendar.ignored_years,
        departments_unmapped={str(k): int(v) for k, v in unmapped.sort_index().items()},
        names_missing=int(rows["name"].isna().sum()),
    )


def _keep_superseded(targets: dict[str, Path], temps: dict[str, Path], folder: Path) -> Path | None:
    """A month exported before with other content (a rerun after late results) keeps its earlier files under
    superseded/v<k>/: what went to the publicity system stays on record. Unchanged content keeps nothing."""
    old = [p for p in targets.values() if p.exists()]
    if not old or all(sha256_file(targets[k]) == sha256_file(temps[k]) for k in targets if targets[k].exists()):
        return None
    keep = folder / "superseded" / f"v{len(list((folder / 'superseded').glob('v*'))) + 1}"
    keep.mkdir(parents=True)
    for path in old:
        os.replace(path, keep / path.name)
    return keep


def late_rows(conn: duckdb.DuckDBPyConnection, month: str) -> list[tuple]:
    """The month's results published after their deadline (task, uscc, inspected, deadline, published, days,
    basis), oldest first."""
    return run_sql(conn, "publicity/late_rows.sql", {"month": month_start(month)})


# --- demo printout ------------------------------------------------------------------------------------------


def summary_lines(paths: settings.Paths | Path, conn: duckdb.DuckDBPyConnection, month: str | None = None) -> list[str]:
    """What the one-public export holds for month M (default: the latest exported): rows, late rows, files."""
    exports = paths.exports if isinstance(paths, settings.Paths) else Path(paths)
    if not run_sql(conn, "meta/table_exists.sql", {"schema": "publicity", "table": "inspection_results"})[0][0]:
        return ["One-public export (一公开): no inspection results exported yet"]
    latest = run_sql(conn, "publicity/latest_month.sql")[0][0]
    if month is None and latest is None:
        return ["One-public export (一公开): no inspection results exported yet"]
    m = month_start(month) if month else latest
    rows, late, not_statutory, published = run_sql(conn, "publicity/month_summary.sql", {"month": m})[0]
    files = file_paths(exports, f"{m:%Y-%m}")
    n = load_config().deadline_working_days
    lines = [
        f"One-public export of inspection results (一公开) {m:%Y-%m}: {rows:,} results, published {published}; "
        f"{late:,} after the {n}-working-day deadline (是否超期=是)",
        f"  {files['utf8']} (UTF-8 with BOM) and {files['gb18030'].name} (GB18030): no tier, score or stratum",
    ]
    if not_statutory:
        lines.append(f"  {not_statutory:,} deadlines counted without the statutory holiday schedule (截止日期口径)")
    return lines
