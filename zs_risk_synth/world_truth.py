"""The hidden state of the synthetic city that the simulated inspectorate needs after generation (世界真值):
per entity its problem probability (before and after the hidden moment its risk moved), whether it operates,
when it left the register, its town and licence domain; per annual-report season who was due and when each filed.

Written once by `generate` into the ground-truth folder, read by inspectorate.py each month. Never read by the
pipeline: it is what a bureau cannot see.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from zs_risk_synth import population
from zs_risk_synth import profiles as P
from zs_risk_synth._util import NEVER, dates32

WORLD_FILE = "world.parquet"
SEASONS_FILE = "report_seasons.parquet"
META_FILE = "world.json"


@dataclass(frozen=True)
class WorldTruth:
    """Entities sorted by USCC (for lookup); days as numbers since 1970-01-01, NEVER where none."""

    uscc: np.ndarray
    town: np.ndarray  # town code, as the inspectors' branch
    lic_domain: np.ndarray  # licence domain word or ""
    est_day: np.ndarray
    exit_day: np.ndarray
    dormant: np.ndarray
    p_problem: np.ndarray
    p_after: np.ndarray
    turn_day: np.ndarray
    # Annual-report seasons: one row per (season, entity due), deadline, next season's deadline, filed (or NEVER).
    season_row: np.ndarray  # entity row
    season_deadline: np.ndarray
    season_next: np.ndarray
    season_filed: np.ndarray
    meta: dict

    def rows(self, uscc: np.ndarray) -> np.ndarray:
        """Row of each USCC; a code the city never registered raises (a plan can only draw registered firms)."""
        at = np.searchsorted(self.uscc, uscc)
        at = np.minimum(at, len(self.uscc) - 1)
        bad = self.uscc[at] != uscc
        if bad.any():
            raise KeyError(f"{int(bad.sum())} USCC(s) unknown to the synthetic city, e.g. {uscc[bad][0]}")
        return at

    def p_problem_at(self, rows: np.ndarray, days: np.ndarray) -> np.ndarray:
        return population.problem_at(self.p_problem, self.p_after, self.turn_day, rows, days)

    def report_missing_at(self, rows: np.ndarray, days: np.ndarray) -> np.ndarray:
        """Whether the annual report of the latest season whose deadline has passed was still not filed that day
        (as inspections.report_missing_at for the generator's own checks)."""
        out = np.zeros(len(rows), dtype=bool)
        order = np.argsort(self.season_row, kind="stable")
        srow = self.season_row[order]
        lo, hi = np.searchsorted(srow, rows, side="left"), np.searchsorted(srow, rows, side="right")
        for k in range(int((hi - lo).max(initial=0))):  # a handful of seasons: a loop over seasons, not entities
            has = lo + k < hi
            at = order[np.minimum(lo + k, len(order) - 1)]
            live = has & (days > self.season_deadline[at]) & (days <= self.season_next[at])
            out |= live & (self.season_filed[at] > days)
        return out


def write(
    truth_dir: Path,
    pop: population.Population,
    seasons: list[tuple],
    *,
    seed: int,
    start: str,
    months: int,
    go_live: str | None,
    handed_over: Sequence[str],
) -> None:
    order = np.argsort(pop.uscc, kind="stable")
    towns = np.array([t.code for t in P.towns()])
    domains = np.array([*P.DOMAINS, ""])
    table = pa.table(
        {
            "uscc": pa.array(pop.uscc[order]),
            "town": pa.array(towns[pop.town[order]]),
            "licence_domain": pa.array(domains[pop.lic_domain[order]]),
            "established_on": dates32(pop.est_day[order]),
            "exited_on": dates32(pop.exit_day[order]),
            "dormant": pa.array(pop.dormant[order]),
            "p_problem": pa.array(pop.p_problem[order]),
            "p_problem_after": pa.array(pop.p_after[order]),
            "risk_moved_on": dates32(pop.turn_day[order]),
        }
    )
    pq.write_table(table, Path(truth_dir) / WORLD_FILE, compression="zstd", data_page_version="1.0")
    rank = np.empty(pop.n, dtype=np.int64)
    rank[order] = np.arange(pop.n)
    parts = []
    for k, (_, due, submit, deadline) in enumerate(seasons):
        following = seasons[k + 1][3] if k + 1 < len(seasons) else NEVER
        due = np.asarray(due)
        parts.append(
            (rank[due], np.full(len(due), deadline), np.full(len(due), following), np.asarray(submit, np.int64))
        )
    cols = [np.concatenate([p[i] for p in parts]) if parts else np.empty(0, np.int64) for i in range(4)]
    pq.write_table(
        pa.table(
            {
                "row": pa.array(cols[0]),
                "deadline": pa.array(cols[1]),
                "next_deadline": pa.array(cols[2]),
                "filed": pa.array(cols[3]),
            }
        ),
        Path(truth_dir) / SEASONS_FILE,
        compression="zstd",
        data_page_version="1.0",
    )
    meta = {"seed": seed, "start": start, "months": months, "go_live": go_live, "handed_over": list(handed_over)}
    (Path(truth_dir) / META_FILE).write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")


def _days(col: pa.ChunkedArray) -> np.ndarray:
    days = col.cast(pa.int32()).to_numpy(zero_copy_only=False)
    return np.where(np.isnan(days.astype("float64")), NEVER, days).astype(np.int64)


def read(truth_dir: Path) -> WorldTruth:
    t = pq.read_table(Path(truth_dir) / WORLD_FILE)
    s = pq.read_table(Path(truth_dir) / SEASONS_FILE)
    return WorldTruth(
        uscc=t["uscc"].to_numpy(zero_copy_only=False).astype(str),
        town=t["town"].to_numpy(zero_copy_only=False).astype(str),
        lic_domain=t["licence_domain"].to_numpy(zero_copy_only=False).astype(str),
        est_day=_days(t["established_on"]),
        exit_day=_days(t["exited_on"]),
        dormant=t["dormant"].to_numpy(zero_copy_only=False).astype(bool),
        p_problem=t["p_problem"].to_numpy(),
        p_after=t["p_problem_after"].to_numpy(),
        turn_day=_days(t["risk_moved_on"]),
        season_row=s["row"].to_numpy(),
        season_deadline=s["deadline"].to_numpy(),
        season_next=s["next_deadline"].to_numpy(),
        season_filed=s["filed"].to_numpy(),
        meta=json.loads((Path(truth_dir) / META_FILE).read_text(encoding="utf-8")),
    )
