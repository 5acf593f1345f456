"""Which runs new landing files call for (抽查结果回流与迟到信息): plain Python, no Dagster.

The inspection-results sensor watches three sources whose late files change what was built or published:
inspection results, and the 回避 declarations (conflicts) and inspector directory (inspectors) that published
plans were drawn against.

`scan(landing, source)` fingerprints every file under landing/<source>/<YYYY-MM>/ (SHA-256 of its bytes);
`changes(seen, now)` lists the files that are new or whose bytes changed since the cursor `seen`;
`months_to_rerun(delivery_month, materialised, today)` is the delivery month (once ended) plus every later month
already built: information delivered for an old month changes its features, labels and plan amendments, and
through them every later month; `plan_runs(new, materialised, today)` turns new files into runs: those reruns of
the monthly chain, and for an inspections file of the running month the small `results_on_arrival` job, so its
results are published the day they arrive.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from zs_risk_pipeline.lib.core.digest import sha256_file
from zs_risk_pipeline.lib.core.month import Month

WATCHED = ("inspections", "conflicts", "inspectors")
MONTHLY_CHAIN = "monthly_chain"
RESULTS_ON_ARRIVAL = "results_on_arrival"


def scan(landing: Path, source: str = "inspections") -> dict[str, str]:
    """{'<YYYY-MM>/<file>': sha256} of the source's delivered files (hidden and partial files skipped)."""
    root = Path(landing) / source
    if not root.exists():
        return {}
    out = {}
    for month_dir in sorted(p for p in root.iterdir() if p.is_dir() and Month.is_label(p.name)):
        for f in sorted(month_dir.iterdir()):
            if f.is_file() and not f.name.startswith("."):
                out[f"{month_dir.name}/{f.name}"] = sha256_file(f)
    return out


def scan_watched(landing: Path) -> dict[str, dict[str, str]]:
    """{source: scan(landing, source)} for every watched source: the sensor's cursor."""
    return {source: scan(landing, source) for source in WATCHED}


def read_cursor(text: str) -> dict[str, dict[str, str]]:
    """A cursor as {source: {file: sha256}}. The cursor of the earlier, inspections-only sensor ({file: sha256})
    is read as the inspections' part, so an upgrade does not take every file for new."""
    doc = json.loads(text)
    if all(isinstance(v, str) for v in doc.values()):
        return {"inspections": doc}
    return doc


def changes(seen: dict[str, str], now: dict[str, str]) -> list[tuple[str, str]]:
    """(file, sha256) of the files new or changed since `seen`, in file order."""
    return [(f, h) for f, h in sorted(now.items()) if seen.get(f) != h]


def new_files(seen: dict[str, dict[str, str]], now: dict[str, dict[str, str]]) -> list[tuple[str, str, str]]:
    """(source, file, sha256) new or changed since the cursor. A source the cursor does not know yet (newly
    watched) is taken as its baseline, like every source on the sensor's first tick."""
    return [(source, f, h) for source, files in now.items() if source in seen for f, h in changes(seen[source], files)]


def months_to_rerun(delivery_month: str, materialised: set[str], today: dt.date) -> list[str]:
    """Partition keys 'YYYY-MM-01': the delivery month, then the later months already materialised.

    A month still running on `today` is left to the monthly schedule: building it now would publish a half month.
    """
    first = f"{delivery_month[:7]}-01"
    ended = first < today.replace(day=1).isoformat()
    return [first] * ended + sorted(m for m in materialised if m > first)


@dataclass(frozen=True)
class Run:
    """One run the new files call for: the job, its partition, a run key and the files that asked for it."""

    job: str
    partition: str
    run_key: str
    files: tuple[tuple[str, str, str], ...]  # (source, file, sha256), in file order


def plan_runs(new: list[tuple[str, str, str]], materialised: set[str], today: dt.date) -> list[Run]:
    """The runs for new or changed files (source, '<YYYY-MM>/<file>', sha256): one per job and partition.

    Every watched source reruns the monthly chain for its delivery month (once ended) and the later months
    built; an inspections file of the running month (today's month) also asks for `results_on_arrival` on that
    month, which publishes its results now instead of at the month's end.
    """
    running = today.replace(day=1).isoformat()
    wanted: dict[tuple[str, str], list[tuple[str, str, str]]] = {}
    for source, name, sha in new:
        for month in months_to_rerun(name[:7], materialised, today):
            wanted.setdefault((MONTHLY_CHAIN, month), []).append((source, name, sha))
        if source == "inspections" and f"{name[:7]}-01" == running:
            wanted.setdefault((RESULTS_ON_ARRIVAL, running), []).append((source, name, sha))
    return [
        Run(job, partition, _run_key(job, partition, files), tuple(sorted(files)))
        for (job, partition), files in sorted(wanted.items(), key=lambda kv: (kv[0][0] != MONTHLY_CHAIN, kv[0][1]))
    ]


def _run_key(job: str, partition: str, files: list[tuple[str, str, str]]) -> str:
    """From the files' SHA-256: the same bytes never launch the same run twice, other bytes always do."""
    text = "\n".join(f"{source}/{name}:{sha}" for source, name, sha in sorted(files))
    return f"{job}:{partition[:7]}:{hashlib.sha256(text.encode('utf-8')).hexdigest()[:16]}"


def previous_month(day: dt.date) -> str:
    """Partition key of the month before `day`'s month ('YYYY-MM-01')."""
    return Month.of(day).previous().key
