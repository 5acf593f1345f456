"""A late delivery (迟报的抽查结果) for the synthetic city: one plan's results of a month held back from the
month's weekly deliveries, to be dropped into the landing later, as a member unit that reports weeks late would.

`hold_back` moves the rows of the plan out of every inspections file of the month's folder into one file kept
outside the landing, each row entered (recorded_on, 录入日期) on the late delivery day; `deliver` puts that file
into the month's landing folder, where the inspection-results sensor notices it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import shutil
from pathlib import Path

RECORDED_ON = "recorded_on"


def _month_files(landing: Path, month: str) -> list[Path]:
    folder = landing / "inspections" / month
    files = sorted(folder.glob("inspections_*.csv"))  # the city's weekly files and the platform's
    if not files:
        raise FileNotFoundError(f"no inspections files in {folder}")
    return files


def _csv(header: list[str], rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, *rows])
    return out.getvalue()


def _of_plan(value: str, plan_id: str) -> bool:
    """A result of the plan, or of one of its strata (`<plan_id>/<stratum>`)."""
    return value == plan_id or value.startswith(f"{plan_id}/")


def hold_back(landing: Path, held: Path, month: str, plan_id: str, delivered_on: dt.date) -> Path:
    """Move the results of `plan_id` (and of its strata) out of every inspections file of `month` (the synthetic
    city's UTF-8 CSV) into one file `held`/<month>/inspections_<YYYYMM>_<plan_id>_late.csv whose rows carry
    recorded_on = `delivered_on`, the day they will reach zs-risk; returns the held file. A weekly file left without
    rows is removed: that week's delivery would not have been sent."""
    header: list[str] | None = None
    late: list[list[str]] = []
    for source in _month_files(landing, month):
        rows = list(csv.reader(io.StringIO(source.read_text(encoding="utf-8"))))
        if header is not None and rows[0] != header:
            raise ValueError(f"{source.name}: header differs from the month's other inspections files")
        header, body = rows[0], rows[1:]
        plan = header.index("plan_id")
        mine = [r for r in body if _of_plan(r[plan], plan_id)]
        if not mine:
            continue
        late += mine
        rest = [r for r in body if not _of_plan(r[plan], plan_id)]
        if rest:
            source.write_text(_csv(header, rest), encoding="utf-8")
        else:
            source.unlink()
    if header is None or not late:
        raise ValueError(f"inspections of {month}: no results of plan {plan_id} to hold back")
    if RECORDED_ON not in header:  # a file from before the column existed: add it
        header = [*header, RECORDED_ON]
        late = [[*r, ""] for r in late]
    at = header.index(RECORDED_ON)
    late = [[*r[:at], delivered_on.isoformat(), *r[at + 1 :]] for r in late]
    target = held / month / f"inspections_{month.replace('-', '')}_{plan_id}_late.csv"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(_csv(header, late), encoding="utf-8")
    return target


def deliver(held_file: Path, landing: Path) -> Path:
    """Drop a held-back file into its month's landing folder (the month is the name of its folder)."""
    target = landing / "inspections" / held_file.parent.name / held_file.name
    tmp = target.parent / f".{target.name}.partial"  # hidden while copying: the sensor skips hidden files
    shutil.copyfile(held_file, tmp)
    tmp.rename(target)
    return target
