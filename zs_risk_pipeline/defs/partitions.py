"""The one monthly partitioning of the pipeline (月度分区): key 2024-03-01 means data through 2024-03-31.

The months offered run from FIRST_MONTH to the home's deliveries, read from `landing/<source>/<YYYY-MM>/` when the
definitions are loaded (`valid_months()` lists them):

- a live home (its latest delivery is of the running month or the month just ended, or it has none yet): through
  the running month, advanced by the clock, so a code server loaded months ago still schedules the month just
  ended and publishes the running month's results the day they arrive;
- a home whose deliveries stopped (a demo, an archived or restored copy): through the month of its latest
  delivery, so the UI shows no empty months after it as missing. A later delivery is offered once the
  definitions are reloaded; until then the schedule and the sensor skip it and say so.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg

from zs_risk_pipeline.lib.core import settings
from zs_risk_pipeline.lib.core.month import Month

FIRST_MONTH = "2023-01-01"


def today() -> dt.date:
    # The bureau's calendar decides which month is running, whatever the server's time zone.
    return dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()


def latest_delivery(landing: Path) -> dt.date | None:
    """First day of the latest month with a delivered file under landing/<source>/<YYYY-MM>/ (hidden and partial
    files do not count), or None when nothing was delivered."""
    months = (
        folder.name
        for source in (landing.iterdir() if landing.is_dir() else ())
        if source.is_dir()
        for folder in source.iterdir()
        if folder.is_dir()
        and Month.is_label(folder.name)
        and any(f.is_file() and not f.name.startswith(".") for f in folder.iterdir())
    )
    latest = max(months, default=None)
    return Month.of(latest).start if latest else None


def partitions_for(latest: dt.date | None, on: dt.date) -> dg.MonthlyPartitionsDefinition:
    """The monthly partitions of a home whose latest delivery is `latest`, as loaded on day `on`."""
    just_ended = Month.of(on).previous().start
    if latest is None or latest >= just_ended or latest < dt.date.fromisoformat(FIRST_MONTH):
        # end_offset=1: the running month is a partition too, so results arriving during it can be published the
        # day they arrive (job results_on_arrival). The monthly chain still builds a month only once it has ended
        # (the schedule requests the month just ended; the sensor never requests the running month's chain).
        return dg.MonthlyPartitionsDefinition(start_date=FIRST_MONTH, end_offset=1)
    after = Month.of(latest).next().start  # the end is exclusive
    return dg.MonthlyPartitionsDefinition(start_date=FIRST_MONTH, end_date=after.isoformat())


monthly = partitions_for(latest_delivery(settings.home().landing), today())


def valid_months() -> list[str]:
    """The months a run may be launched for ('YYYY-MM', oldest first): the partitions the definitions offer now."""
    return [key[:7] for key in monthly.get_partition_keys()]


def is_valid_month(partition_key: str) -> bool:
    """Whether a partition key ('YYYY-MM-01') is among the months offered (a month delivered after the definitions
    were loaded is not, until they are reloaded)."""
    return monthly.has_partition_key(partition_key)
