"""A late delivery (迟报的抽查结果) for the synthetic city: one plan's results of a month held back from the
month's delivery, to be dropped into the landing later, as a member unit that reports weeks late would.

`hold_back` moves the rows of the plan out of the month's inspections file into a file kept outside the landing;
`deliver` puts that file into the month's landing folder, where the inspection-results sensor notices it.
"""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path


def _month_file(landing: Path, month: str) -> Path:
    files = sorted((landing / "inspections" / month).glob("inspections_*.csv"))
    if len(files) != 1:
        raise FileNotFoundError(f"expected one inspections file in {landing / 'inspections' / month}, found {files}")
    return files[0]


def _csv(header: list[str], rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, *rows])
    return out.getvalue()


def hold_back(landing: Path, held: Path, month: str, plan_id: str) -> Path:
    """Move the results of `plan_id` out of `month`'s inspections file (the synthetic city's UTF-8 CSV) into
    `held`/<month>/; returns the held file."""
    source = _month_file(landing, month)
    rows = list(csv.reader(io.StringIO(source.read_text(encoding="utf-8"))))
    header, body = rows[0], rows[1:]
    plan = header.index("plan_id")
    late = [r for r in body if r[plan] == plan_id]
    if not late:
        raise ValueError(f"{source.name}: no results of plan {plan_id} to hold back")
    target = held / month / f"{source.stem}_{plan_id}_late.csv"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(_csv(header, late), encoding="utf-8")
    source.write_text(_csv(header, [r for r in body if r[plan] != plan_id]), encoding="utf-8")
    return target


def deliver(held_file: Path, landing: Path) -> Path:
    """Drop a held-back file into its month's landing folder (the month is the name of its folder)."""
    target = landing / "inspections" / held_file.parent.name / held_file.name
    tmp = target.parent / f".{target.name}.partial"  # hidden while copying: the sensor skips hidden files
    shutil.copyfile(held_file, tmp)
    tmp.rename(target)
    return target
