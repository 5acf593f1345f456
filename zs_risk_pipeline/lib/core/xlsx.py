"""Excel copies of the exports meant for people (供人工查阅的 Excel 副本).

Excel reads an all-digit USCC in a CSV (914420006627069697) as a number and shows 9.1442000662707E+17, losing
digits. So next to each such CSV goes an `.xlsx` of the same table in which every cell is a text cell (number
format "@"), except the columns a caller names as plain counts; the header row is frozen and filterable.

- `path_for(csv_path)`: `<stem>.<encoding label>.csv` → `<stem>.xlsx` (one workbook for both encodings);
- `read_text(csv_path, encoding)`: a CSV as people see it, every cell as the text written;
- `write_aside(table, path, sheet, created)`: the workbook under a hidden name beside `path`, fsync-ed; the
  caller renames it into place (or removes it) with its CSVs. `write(...)` does both.

The CSVs stay the record (machines read them, their digests decide); a workbook is derived from a CSV's bytes,
never from the rows before they were written, so it holds exactly what the CSV says. Same table, same bytes:
XlsxWriter fixes the zip entries' timestamps, and the document's creation date comes from the caller's data.
Plain Python.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import unicodedata
from collections.abc import Collection
from pathlib import Path

import pandas as pd
import xlsxwriter

MAX_WIDTH = 60  # characters: long addresses and result texts wrap the view, not the sheet
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_INTEGER = re.compile(r"^-?\d{1,15}$")  # up to 15 digits an Excel number holds exactly


def path_for(csv_path: Path) -> Path:
    """The workbook beside a CSV export: the encoding label (`.utf8`, `.gb18030`) dropped."""
    stem = Path(csv_path).stem
    return Path(csv_path).with_name(f"{stem.rsplit('.', 1)[0] if '.' in stem else stem}.xlsx")


def read_text(csv_path: Path, encoding: str) -> pd.DataFrame:
    """A CSV with every cell as the text written, empty cells as ''."""
    return pd.read_csv(csv_path, dtype=str, keep_default_na=False, encoding=encoding)


def sheet_name(text: str) -> str:
    """A valid worksheet name: no []:*?/\\, at most 31 characters."""
    return _SHEET_FORBIDDEN.sub("-", text).strip("'")[:31] or "Sheet1"


def _width(text: str) -> int:
    # Wide (CJK) characters take two columns of Excel's character width.
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def workbook_bytes(
    table: pd.DataFrame, sheet: str, created: dt.datetime, *, title: str = "", counts: Collection[str] = ()
) -> bytes:
    """The xlsx of `table` (cells as text): every cell a text cell, except integer cells of the `counts`
    columns (a task number sorts 1, 2, … 10 in the filter, not 1, 10, 2)."""
    out = io.BytesIO()
    # in_memory: no temporary files elsewhere on disk; strings are never turned into numbers, formulas or links.
    book = xlsxwriter.Workbook(
        out,
        {"in_memory": True, "strings_to_numbers": False, "strings_to_formulas": False, "strings_to_urls": False},
    )
    book.set_properties({"title": title or sheet, "created": created})
    text = book.add_format({"num_format": "@"})
    head = book.add_format({"num_format": "@", "bold": True, "bottom": 1})
    number = book.add_format({"num_format": "0"})
    ws = book.add_worksheet(sheet_name(sheet))
    columns = [str(c) for c in table.columns]
    for j, name in enumerate(columns):
        values = table.iloc[:, j].astype(str).tolist()
        ws.write_string(0, j, name, head)
        as_count = name in counts
        for i, value in enumerate(values, start=1):
            if as_count and _INTEGER.match(value):
                ws.write_number(i, j, int(value), number)
            elif value:
                ws.write_string(i, j, value, text)
            else:
                ws.write_blank(i, j, None, text)  # text-formatted: what staff type in stays text
        widest = max([_width(name), *map(_width, values)])
        ws.set_column(j, j, min(widest + 2, MAX_WIDTH), None if as_count else text)
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, len(table), max(len(columns) - 1, 0))
    book.close()
    return out.getvalue()


def write_aside(
    table: pd.DataFrame,
    path: Path,
    sheet: str,
    created: dt.datetime,
    *,
    title: str = "",
    counts: Collection[str] = (),
) -> Path:
    """The workbook written and fsync-ed under a hidden name beside `path`; returns that name."""
    data = workbook_bytes(table, sheet, created, title=title, counts=counts)
    tmp = Path(path).with_name(f".{Path(path).name}.tmp")
    tmp.parent.mkdir(parents=True, exist_ok=True)
    try:
        with tmp.open("wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def write(
    table: pd.DataFrame,
    path: Path,
    sheet: str,
    created: dt.datetime,
    *,
    title: str = "",
    counts: Collection[str] = (),
) -> Path:
    """The workbook written aside and renamed into place: a reader sees the old file or the new, never a part."""
    tmp = write_aside(table, path, sheet, created, title=title, counts=counts)
    try:
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return Path(path)
