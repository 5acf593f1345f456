"""Which monthly runs new inspection results call for (抽查结果回流): plain Python, no Dagster.

`scan(landing)` fingerprints every file under landing/inspections/<YYYY-MM>/ (SHA-256 of its bytes);
`changes(seen, now)` lists the files that are new or whose bytes changed since the cursor `seen`;
`months_to_rerun(delivery_month, materialised, today)` is the delivery month (once ended) plus every later month
already built: results delivered for an old month change its features and labels, and through them every later
month.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from zs_risk_pipeline.lib.digest import sha256_file

_MONTH_DIR = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def scan(landing: Path, source: str = "inspections") -> dict[str, str]:
    """{'<YYYY-MM>/<file>': sha256} of the source's delivered files (hidden and partial files skipped)."""
    root = Path(landing) / source
    if not root.exists():
        return {}
    out = {}
    for month_dir in sorted(p for p in root.iterdir() if p.is_dir() and _MONTH_DIR.match(p.name)):
        for f in sorted(month_dir.iterdir()):
            if f.is_file() and not f.name.startswith("."):
                out[f"{month_dir.name}/{f.name}"] = sha256_file(f)
    return out


def changes(seen: dict[str, str], now: dict[str, str]) -> list[tuple[str, str]]:
    """(file, sha256) of the files new or changed since `seen`, in file order."""
    return [(f, h) for f, h in sorted(now.items()) if seen.get(f) != h]


def months_to_rerun(delivery_month: str, materialised: set[str], today: dt.date) -> list[str]:
    """Partition keys 'YYYY-MM-01': the delivery month, then the later months already materialised.

    A month still running on `today` is left to the monthly schedule: building it now would publish a half month.
    """
    first = f"{delivery_month[:7]}-01"
    ended = first < today.replace(day=1).isoformat()
    return [first] * ended + sorted(m for m in materialised if m > first)


def previous_month(day: dt.date) -> str:
    """Partition key of the month before `day`'s month ('YYYY-MM-01')."""
    first = day.replace(day=1)
    return (first - dt.timedelta(days=1)).replace(day=1).isoformat()
