"""Task lists and the trigger queue (检查任务清单与触发式监管队列) of the month's plans.

The inspectors' task lists as CSV with an Excel copy, never rewritten once issued, and the queue of firms
that early warnings and complaints call for outside the random draw. Plain Python, no Dagster.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Sequence
from pathlib import Path

import duckdb

from zs_risk_pipeline.lib.core import digest, xlsx
from zs_risk_pipeline.lib.core.db import transaction
from zs_risk_pipeline.lib.core.month import Month
from zs_risk_pipeline.lib.core.sql import load_sql, run_sql
from zs_risk_pipeline.lib.ingest.contract import REFERENCE_DIR
from zs_risk_pipeline.lib.monitoring import early_warnings
from zs_risk_pipeline.lib.sampling import frames, plan_policy

ENCODINGS = {"utf8": "utf-8-sig", "gb18030": "gb18030"}  # BOM in the UTF-8 file: Excel opens it right


def write_task_lists(
    conn: duckdb.DuckDBPyConnection, configured: Sequence[plan_policy.SamplingPlan], month: str, folder: Path
) -> dict[str, int]:
    """One CSV per branch (分局) with the tasks of the plans drawn from tier month M, in UTF-8 and GB18030:
    `folder/<YYYY-MM of M+1>/<branch>.<utf8|gb18030>.csv`. No tier, score or draw number; amended tasks carry
    their change in the column 变更. Rows and task numbers (任务序号, 1..n per list) follow the enterprise's town and
    USCC, never the draw: the staffing order ranks firms by draw key, and so by tier. Beside them
    `<branch>.xlsx`, the same list for Excel (codes as text cells, lib/core/xlsx.py). Tasks per branch.

    The month's folder is written aside and swapped in, so a rerun replaces it whole; when the lists changed (an
    amendment re-issues them: the CSVs are compared) the lists issued before, workbooks included, are kept under
    superseded/v<k>/.
    """
    active = frames.plans_active(configured, month)
    params = {
        "month": Month.of(month).start,
        "month_end": Month.of(month).end,
        "plan_ids": [frames.plan_id(p, month) for p in active],
        "plan_names": [p.name_zh for p in active],
        "items": ["；".join(i.name_zh for i in p.items) for p in active],
        "towns_csv": str(REFERENCE_DIR / "towns.csv"),
    }
    tasks = conn.execute(load_sql("intermediate/task_list.sql"), params).df()
    plan_month = frames.plan_month(month)
    target = Path(folder) / f"{plan_month:%Y-%m}"
    staging = target.with_name(f".{target.name}.tmp")
    old = target.with_name(f".{target.name}.old")
    if old.exists() and not target.exists():
        old.rename(target)  # an earlier run stopped between its two renames: the issued lists come back
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    counts: dict[str, int] = {}
    for branch, rows in tasks.groupby("branch", sort=True):  # a loop over the ~20 branches, not over tasks
        table = rows.drop(columns=["branch"])
        for label, encoding in ENCODINGS.items():
            table.to_csv(staging / f"{branch}.{label}.csv", index=False, encoding=encoding, lineterminator="\n")
        _write_task_workbook(staging / f"{branch}.utf8.csv", str(branch), plan_month)
        counts[str(branch)] = len(table)
    _keep_issued(target, staging)
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    staging.rename(target)
    shutil.rmtree(old, ignore_errors=True)
    return counts


def _keep_issued(target: Path, staging: Path) -> None:
    """Carry the lists issued before into the new folder: superseded/ as it was, plus the current lists as the
    next superseded/v<k>/ when the new ones differ (what a branch was once told stays on record)."""
    if not target.exists():
        return
    if (target / "superseded").is_dir():
        shutil.copytree(target / "superseded", staging / "superseded")
    before = {p.name: digest.sha256_file(p) for p in target.glob("*.csv")}
    after = {p.name: digest.sha256_file(p) for p in staging.glob("*.csv")}
    if before and before != after:
        keep = staging / "superseded" / f"v{len(list((staging / 'superseded').glob('v*'))) + 1}"
        keep.mkdir(parents=True)
        # The CSVs decide (the workbooks are derived from them); the workbooks issued with them go along.
        for name in [*before, *(p.name for p in sorted(target.glob("*.xlsx")))]:
            shutil.copyfile(target / name, keep / name)


def _write_task_workbook(csv_path: Path, branch: str, plan_month: dt.date) -> None:
    """The branch's list as an Excel workbook beside its CSVs, read back from the UTF-8 CSV: every code a text
    cell (an all-digit USCC keeps its 18 digits), the task number a number; dated by the plan month, so the same
    list gives the same bytes."""
    table = xlsx.read_text(csv_path, ENCODINGS["utf8"])
    xlsx.write(
        table,
        xlsx.path_for(csv_path),
        f"任务清单 {plan_month:%Y-%m} {branch}",
        dt.datetime(plan_month.year, plan_month.month, 1),
        title=f"双随机抽查检查任务清单 {plan_month:%Y-%m} {branch}",
        counts={"任务序号"},
    )


def build_trigger_queue(conn: duckdb.DuckDBPyConnection, month: str) -> dict[str, int]:
    """Queue the A/B-tier enterprises with a complaint or an early warning (预警) in tier month M for triggered
    inspection (触发式监管), replacing the month in sampling.trigger_queue in one transaction; enterprises
    queued per tier. Without warnings built for M, only the complaints queue."""
    with transaction(conn):
        early_warnings.ensure_table(conn)
        month_of = Month.of(month)
        run_sql(conn, "intermediate/sampling.trigger_queue.sql")
        params = {"month": month_of.start, "month_end": month_of.end}
        rows = run_sql(conn, "intermediate/sampling.trigger_queue.sql#replace_month", params)
    return {str(tier): int(n) for tier, n in rows}
