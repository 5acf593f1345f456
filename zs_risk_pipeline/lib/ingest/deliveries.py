"""Expected monthly deliveries (月度数据交付核查): which sources must deliver, and what a month lacks.

config/deliveries.yaml lists the sources that must deliver every month (`every_month`) and, of those, the ones for
which a file without rows is a legitimate delivery (`may_be_empty`); lib/policy/deliveries.py validates it.
`check_month(conn, month, landing)` compares what raw.landing_files holds for the month with that policy and
records the result in audit.deliveries; a month
with missing sources is published only when an operator releases it, with a reason, and the release then travels
into the publish log entries of the month (lib/publish/wap.py entry_context).

Plain Python, no Dagster.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from zs_risk_pipeline.lib.core.month import Month
from zs_risk_pipeline.lib.core.sql import run_sql
from zs_risk_pipeline.lib.policy import base, folder
from zs_risk_pipeline.lib.policy.deliveries import DeliveryPolicy
from zs_risk_pipeline.lib.publish.tables import AUDIT_SQL

__all__ = ["DeliveryCheck", "DeliveryPolicy", "Missing", "check_month", "latest", "load_policy", "missing_sources"]


@dataclass(frozen=True)
class Missing:
    source: str
    folder: str  # the folder looked in, below the home: landing/<source>/<YYYY-MM>/
    problem: str

    def message(self) -> str:
        return f"{self.source}: {self.problem} in {self.folder}"


@dataclass(frozen=True)
class DeliveryCheck:
    month: str
    missing: list[Missing]
    delivered: dict[str, dict[str, int]]  # source → files, rows, rejected
    released: bool
    release_reason: str | None

    @property
    def passed(self) -> bool:
        return not self.missing or self.released


def load_policy(path: Path | None = None) -> DeliveryPolicy:
    """The delivery policy of the policy folder in use, or of the file `path` (validated the same way)."""
    return folder.current().deliveries if path is None else base.load_file(DeliveryPolicy, path)


def missing_sources(delivered: dict[str, dict[str, int]], policy: DeliveryPolicy, month: str) -> list[Missing]:
    """The expected sources without a delivery in `month`: no file, only rejected files, or no rows where rows
    are required."""
    label = Month.of(month).start.strftime("%Y-%m")
    out = []
    for source in policy.every_month:
        got = delivered.get(source, {"files": 0, "rows": 0, "rejected": 0})
        folder = f"landing/{source}/{label}/"
        if got["files"] == 0 and got["rejected"]:
            out.append(Missing(source, folder, f"only rejected files ({got['rejected']})"))
        elif got["files"] == 0:
            out.append(Missing(source, folder, "no file delivered"))
        elif got["rows"] == 0 and source not in policy.may_be_empty:
            out.append(Missing(source, folder, f"{got['files']} file(s) without rows (rows are required)"))
    return out


def check_month(
    conn: duckdb.DuckDBPyConnection,
    month: str,
    policy: DeliveryPolicy,
    release_reason: str | None = None,
    run_id: str | None = None,
    at: dt.datetime | None = None,
) -> DeliveryCheck:
    """Compare the month's deliveries with the policy and record the check (and a release) in audit.deliveries.

    `release_reason`: the operator's reason to publish the month although sources are missing; a release of a
    complete month is not recorded as one. A release holds for the month's later runs (a rerun the sensor asks
    for after late results) as long as no other source is missing than those it released."""
    for name in AUDIT_SQL:
        run_sql(conn, name)
    m = Month.of(month).start
    delivered = {
        s: {"files": int(f), "rows": int(r), "rejected": int(x)}
        for s, f, r, x in run_sql(conn, "staging/raw.landing_files.sql#deliveries_of_month", {"month": m})
    }
    missing = missing_sources(delivered, policy, month)
    reason = (release_reason or "").strip() or None
    if missing and reason is None:
        earlier = run_sql(conn, "ops/audit.deliveries.sql#released", {"month": m})
        if earlier and {x.source for x in missing} <= {x["source"] for x in json.loads(earlier[0][0])}:
            reason = earlier[0][1]  # the operator's release stands for the sources it released
    released = bool(missing) and reason is not None
    run_sql(
        conn,
        "ops/audit.deliveries.sql#record",
        {
            "month": m,
            "checked_at": at or dt.datetime.now(dt.UTC).replace(tzinfo=None),
            "missing": json.dumps([vars(x) for x in missing], ensure_ascii=False),
            "released": released,
            "release_reason": reason if released else None,
            "run_id": run_id,
        },
    )
    return DeliveryCheck(m.strftime("%Y-%m"), missing, delivered, released, reason if released else None)


def latest(conn: duckdb.DuckDBPyConnection, month: str) -> dict[str, Any] | None:
    """The month's latest recorded check (for the blocking check of the same run), or None."""
    rows = run_sql(conn, "ops/audit.deliveries.sql#latest", {"month": Month.of(month).start})
    if not rows:
        return None
    missing, released, reason = rows[0]
    return {"missing": json.loads(missing), "released": bool(released), "release_reason": reason}
