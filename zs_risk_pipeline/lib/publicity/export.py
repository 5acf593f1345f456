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
The export's SQL never reads tiers, frames or scores (sql/marts/publicity*), which the tests assert as behaviour.
Plain Python, no Dagster.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from zs_risk_pipeline.lib.core import settings
from zs_risk_pipeline.lib.core.digest import sha256_file
from zs_risk_pipeline.lib.core.month import Month
from zs_risk_pipeline.lib.core.sql import latest_month, load_sql, run_sql, table_exists
from zs_risk_pipeline.lib.publicity import batches as publicity_batches
from zs_risk_pipeline.lib.publicity import deadlines, export_files, export_rules


class NotYetPublished(export_rules.ExportRefused):
    """Results of the month have no batch yet: publish the batches (publicity/result_batches) first."""


def month_rows(conn: duckdb.DuckDBPyConnection, month: str, config: export_rules.PublicityConfig) -> pd.DataFrame:
    """The month's results, each dated by the batch that first published it, with deadline, late flag, working
    days taken and calendar basis."""
    m = Month.of(month).start
    rows = deadlines.results_of_month(conn, month, config)
    exists = table_exists(conn, "publicity", "result_batch_rows")
    first = (
        conn.execute(load_sql("marts/publicity.result_batch_rows.sql#first_publication"), {"month": m}).df()
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
    rows = deadlines.with_deadlines(rows, deadlines._days(rows["published_on"]), config)
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
    conn: duckdb.DuckDBPyConnection, month: str, exports: Path, config: export_rules.PublicityConfig | None = None
) -> ExportResult:
    """Publish month M's record of inspection results (table and both files), write-audit-publish."""
    config = config or export_rules.load_config()
    m = Month.of(month).start
    rows = month_rows(conn, month, config)
    targets = export_files.file_paths(exports, month)
    folder = export_files.folder_of(exports, month)
    folder.mkdir(parents=True, exist_ok=True)
    with publicity_batches._written_aside(conn) as temps:
        conn.register("_publicity_rows", rows)
        try:
            run_sql(conn, "marts/publicity.inspection_results.sql")
            run_sql(conn, "marts/publicity.inspection_results.sql#replace_month", {"month": m})
        finally:
            conn.unregister("_publicity_rows")
        temps.update(export_files._write_aside(export_files.export_frame(conn, m), targets))
        problems, _ = export_rules.verify_files(temps)  # the audit reads exactly the bytes about to be published
        if problems:
            raise export_rules.ExportRefused(
                f"one-public export of {m:%Y-%m} refused, the previous files stand: " + "; ".join(problems)
            )
        book = export_files.workbook_path(targets)
        temps["xlsx"] = export_files._workbook_aside(temps["utf8"], book, f"检查结果公示 {m:%Y-%m}", f"{m:%Y-%m}", m)
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
    return run_sql(conn, "marts/publicity.inspection_results.sql#late_rows", {"month": Month.of(month).start})


def summary_lines(paths: settings.Paths | Path, conn: duckdb.DuckDBPyConnection, month: str | None = None) -> list[str]:
    """What the one-public export holds for month M (default: the latest exported): rows, batches, late rows,
    files; and the late rows of every exported month."""
    exports = paths.exports if isinstance(paths, settings.Paths) else Path(paths)
    if not table_exists(conn, "publicity", "inspection_results"):
        return ["One-public export (一公开): no inspection results exported yet"]
    latest = latest_month(conn, "publicity.inspection_results")
    if month is None and latest is None:
        return ["One-public export (一公开): no inspection results exported yet"]
    m = Month.of(month).start if month else latest
    rows, late, not_statutory, batches, first, last = run_sql(
        conn, "marts/publicity.inspection_results.sql#month_summary", {"month": m}
    )[0]
    files = export_files.file_paths(exports, f"{m:%Y-%m}")
    n = export_rules.load_config().deadline_working_days
    span = f"{first} … {last}" if first != last else f"{first}"
    lines = [
        f"One-public export of inspection results (一公开) {m:%Y-%m}: {rows:,} results, published on arrival in "
        f"{batches} batches ({span}); {late:,} after the {n}-working-day deadline (是否超期=是)",
        f"  {files['utf8']} (UTF-8 with BOM), {files['gb18030'].name} (GB18030) and "
        f"{export_files.workbook_path(files).name} (Excel, codes as text), the month's record; the "
        f"batches under {export_files.folder_of(exports, f'{m:%Y-%m}') / export_rules.BATCH_DIR}: "
        "no tier, score or stratum",
    ]
    if not_statutory:
        lines.append(f"  {not_statutory:,} deadlines counted without the statutory holiday schedule (截止日期口径)")
    by_month = run_sql(conn, "marts/publicity.inspection_results.sql#late_by_month")
    late_months = [(mo, k) for mo, _, k in by_month if k]
    lines.append(
        "  late results by month (each delivered late by its source): "
        + (", ".join(f"{mo} {k:,}" for mo, k in late_months) or "none")
        + f"; {len(by_month) - len(late_months)} of {len(by_month)} exported months without any"
    )
    return lines
