"""Late information about published plans (迟到的回避申报与人员变动), as the synthetic city's inspectorate sends it.

The branches receive their task lists; an inspector who finds a relative's firm on his list declares a conflict of
interest (回避), and the personnel office corrects the inspector directory for someone who has left. Both arrive
after the plans were drawn, into the delivery month the plans were drawn from. The world reads only what it would
have in reality: the task lists issued to the branches (exports/task_lists/), and its own directory delivery.

- `declare_conflicts(task_lists, landing, month, n)`: conflicts declared by the first inspector of n staffed tasks.
- `inspector_left(task_lists, landing, month)`: a corrected directory snapshot in which one assigned inspector is
  no longer in post.
Both choose deterministically (the tasks in list order) and return what they delivered.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

_STAFFED = ("检查人员1", "检查人员2")


def _staffed_tasks(task_lists: Path) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    for f in sorted(Path(task_lists).glob("*.utf8.csv")):
        with f.open(encoding="utf-8-sig", newline="") as fh:
            rows += [r for r in csv.DictReader(fh) if all(r.get(c) for c in _STAFFED)]
    return rows


def _deliver(target: Path, text: str) -> Path:
    """Write a landing file atomically, hidden while it is being written (the sensor skips hidden files)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.name}.partial"
    tmp.write_text(text, encoding="utf-8")
    tmp.rename(target)
    return target


def declare_conflicts(task_lists: Path, landing: Path, month: str, n: int = 2) -> list[tuple[str, str]]:
    """(inspector_id, uscc) of n conflicts declared at the end of `month` ('YYYY-MM') by the first inspector of the
    first n staffed tasks on the lists, delivered as landing/conflicts/<month>/conflicts_<month>_late.csv."""
    tasks = _staffed_tasks(task_lists)[:n]
    if not tasks:
        return []
    declared = [(t["检查人员1"], t["统一社会信用代码"]) for t in tasks]
    last_day = _month_end(month)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["inspector_id", "uscc", "reason", "declared_on"])
    writer.writerows([i, u, "近亲属在该企业任职", last_day] for i, u in declared)
    _deliver(Path(landing) / "conflicts" / month / f"conflicts_{month.replace('-', '')}_late.csv", out.getvalue())
    return declared


def inspector_left(task_lists: Path, landing: Path, month: str) -> str | None:
    """The inspector who left: the second inspector of the last staffed task on the lists, no longer listed in a
    corrected full snapshot of `month`'s directory, delivered beside the original."""
    tasks = _staffed_tasks(task_lists)
    folder = Path(landing) / "inspectors" / month
    originals = sorted(p for p in folder.glob("inspectors_*.csv") if "correction" not in p.name)
    if not tasks or len(originals) != 1:
        return None
    leaver = tasks[-1]["检查人员2"]
    with originals[0].open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    header, body = rows[0], rows[1:]
    who = header.index("inspector_id" if "inspector_id" in header else "人员编号")  # English or Chinese headers
    kept = [r for r in body if r[who] != leaver]
    if len(kept) == len(body):
        return None
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows([header, *kept])
    target = folder / f"{originals[0].stem}_correction.csv"  # sorts after the original: the later snapshot file
    _deliver(target, out.getvalue())
    return leaver


def _month_end(month: str) -> str:
    y, m = int(month[:4]), int(month[5:7])
    ny, nm = (y + 1, 1) if m == 12 else (y, m + 1)
    return (dt.date(ny, nm, 1) - dt.timedelta(days=1)).isoformat()
