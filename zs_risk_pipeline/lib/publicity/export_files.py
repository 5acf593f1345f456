"""The files of an export (公示文件): frames, paths and the Excel copies beside them.

Plain Python, no Dagster.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from zs_risk_pipeline.lib.core import workdays, xlsx
from zs_risk_pipeline.lib.core.month import Month
from zs_risk_pipeline.lib.core.sql import render
from zs_risk_pipeline.lib.publicity import export_rules


def _export_table(conn: duckdb.DuckDBPyConnection, table: str, key: str, value: Any) -> pd.DataFrame:
    bases = list(workdays.BASES)
    return conn.execute(
        render("marts/publicity_export.sql", {"table": table, "key": key}),
        {
            "key": value,
            "types": list(export_rules.TYPE_LABELS),
            "type_labels": list(export_rules.TYPE_LABELS.values()),
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


def folder_of(exports: Path, month: str) -> Path:
    return Path(exports) / "publicity" / f"{Month.of(month).start:%Y-%m}"


def file_paths(exports: Path, month: str) -> dict[str, Path]:
    """The published files of month M's record: label → path."""
    folder = folder_of(exports, month)
    return {label: folder / f"{export_rules.FILE_STEM}.{label}.csv" for label in export_rules.ENCODINGS}


def batch_paths(exports: Path, month: str, batch_id: str) -> dict[str, Path]:
    """The published files of one batch of month M: label → path."""
    folder = folder_of(exports, month) / export_rules.BATCH_DIR
    return {label: folder / f"{batch_id}.{label}.csv" for label in export_rules.ENCODINGS}


def _write_aside(table: pd.DataFrame, targets: Mapping[str, Path]) -> dict[str, Path]:
    """Both encodings written under hidden names beside their targets; returns label → hidden path."""
    temps = {label: path.parent / f".{path.name}.tmp" for label, path in targets.items()}
    for label, tmp in temps.items():
        tmp.parent.mkdir(parents=True, exist_ok=True)
        table.to_csv(tmp, index=False, encoding=export_rules.ENCODINGS[label], lineterminator="\n")
    return temps


def workbook_path(files: Mapping[str, Path]) -> Path:
    """The Excel copy beside an export's CSVs (label → path): `<stem>.xlsx`."""
    return xlsx.path_for(files["utf8"])


def _workbook_aside(csv_utf8: Path, target: Path, sheet: str, title: str, day: dt.date) -> Path:
    """The Excel copy of a checked CSV, from its bytes (the same columns: no tier, score or stratum), under a
    hidden name beside `target`: every cell text, so an all-digit USCC keeps its 18 digits; dated `day`, so the
    same file gives the same bytes."""
    return xlsx.write_aside(
        export_rules.read_export(csv_utf8, "utf8"),
        target,
        sheet,
        dt.datetime(day.year, day.month, day.day),
        title=f"抽查检查结果公示（一公开） {title}",
    )
