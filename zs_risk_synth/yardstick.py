"""zs-risk's plans against the hidden truth (真值对照), in the simulation only: what a bureau can never compute.

- Expected findings of each published plan (the hidden problem probabilities of the firms it drew, on the
  plan month's middle day) against a uniform random draw of the same size from the same frame and against the
  oracle allocation (the same number of the frame's riskiest firms); efficiency = (plan − uniform) ÷ (oracle −
  uniform): 0 is no better than chance, 1 is the oracle.
- Time to detection for firms whose risk rose after go-live: months until zs-risk's tier of them reaches C or D,
  and until an inspection of zs-risk's (plan or trigger queue) finds the problem, against a uniform random
  allocation of the same monthly budget (each firm inspected with the same chance every month).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from zs_risk_synth import world_truth
from zs_risk_synth._util import NEVER, day

DAYS_PER_MONTH = 30.4375


@dataclass(frozen=True)
class PlanYield:
    by_plan: pd.DataFrame  # plan_id, month, n, plan, uniform, oracle, efficiency
    plan: float
    uniform: float
    oracle: float

    @property
    def efficiency(self) -> float:
        span = self.oracle - self.uniform
        return (self.plan - self.uniform) / span if span > 0 else float("nan")


def _month_index(days: np.ndarray) -> np.ndarray:
    return np.asarray(days, dtype=np.int64).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)


def plan_yield(plans_dir: Path, truth_dir: Path, months: list[str]) -> PlanYield:
    """Expected problems found by the published plans of `months` (plan months) vs uniform and oracle draws."""
    world = world_truth.read(truth_dir)
    rows = []
    for plan_json in sorted(Path(plans_dir).glob("*/plan.json")):
        meta = json.loads(plan_json.read_text(encoding="utf-8"))
        if meta["month"] not in months:
            continue
        folder = plan_json.parent
        frame = pd.read_csv(folder / "frame.csv", dtype=str, usecols=["uscc"])["uscc"].to_numpy(dtype=str)
        drawn = pd.read_csv(folder / "selection.csv", dtype=str, usecols=["uscc"])["uscc"].to_numpy(dtype=str)
        if not len(frame) or not len(drawn):
            continue
        mid = day(f"{meta['month']}-15")
        p_frame = world.p_problem_at(world.rows(frame), np.full(len(frame), mid))
        p_drawn = world.p_problem_at(world.rows(drawn), np.full(len(drawn), mid))
        n = len(drawn)
        rows.append(
            {
                "plan_id": meta["plan_id"],
                "month": meta["month"],
                "n": n,
                "plan": float(p_drawn.sum()),
                "uniform": float(n * p_frame.mean()),
                "oracle": float(np.sort(p_frame)[-n:].sum()),
            }
        )
    table = pd.DataFrame(rows, columns=["plan_id", "month", "n", "plan", "uniform", "oracle"])
    span = table["oracle"] - table["uniform"]
    table["efficiency"] = ((table["plan"] - table["uniform"]) / span).where(span > 0)
    return PlanYield(table, float(table["plan"].sum()), float(table["uniform"].sum()), float(table["oracle"].sum()))


@dataclass(frozen=True)
class Detection:
    firms: int  # firms whose risk rose from go-live on, with `horizon` months of follow-up in the window
    tier_within: dict[int, float]  # months → share whose tier reached C or D within them (of firms A/B before)
    tier_median: float  # median months to C/D among those reached
    low_before: int  # of which tier A or B in the month before the rise
    found_within: dict[int, float]  # months → share found by one of zs-risk's inspections within them
    uniform_within: dict[int, float]  # the same for a uniform random allocation of zs-risk's monthly budget
    budget: float  # zs-risk's inspections per month (plans and queue), the uniform allocation's too


def detection(
    truth_dir: Path, warehouse: Path, go_live: str, last_month: str, horizons: tuple[int, ...] = (3, 6)
) -> Detection:
    """Time to detection of the firms whose risk rose at a hidden moment after go-live."""
    world = world_truth.read(truth_dir)
    start, end = day(f"{go_live}-01"), day(f"{last_month}-01")
    follow = max(horizons)
    last_turn = int((np.datetime64(last_month, "M") - follow + 1).astype("datetime64[D]").astype(np.int64))
    rose = np.flatnonzero(
        (world.turn_day >= start)
        & (world.turn_day < last_turn)
        & (world.p_after > world.p_problem)
        & (world.exit_day > end)
    )
    turn_month = _month_index(world.turn_day[rose])
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        tiers = conn.execute(
            "SELECT uscc, month, tier FROM tiers.enterprise_monthly WHERE uscc IN (SELECT unnest(?))",
            [world.uscc[rose].tolist()],
        ).df()
    tiers["m"] = _month_index(pd.to_datetime(tiers["month"]).to_numpy().astype("datetime64[D]").astype(np.int64))
    firm = pd.DataFrame({"uscc": world.uscc[rose], "turn": turn_month})
    t = tiers.merge(firm, on="uscc")
    before = t[t["m"] == t["turn"] - 1].set_index("uscc")["tier"]
    low = firm[firm["uscc"].map(before).isin(["A", "B"])]
    reached = t[(t["m"] >= t["turn"]) & t["tier"].isin(["C", "D"])].groupby("uscc")["m"].min()
    lag = (low["uscc"].map(reached) - low["turn"]).to_numpy(dtype="float64")
    records = [pd.read_csv(f, dtype={"uscc": str}) for f in sorted((Path(truth_dir) / "inspectorate").glob("*.csv"))]
    done = pd.concat(records, ignore_index=True) if records else pd.DataFrame(columns=["uscc", "inspected_on"])
    done = done[done["inspected_on"].notna()]
    months_done = max(len(records), 1)
    budget = len(done) / months_done
    found = done[done["problem_found"].astype(str) == "True"]
    found_day = (
        pd.to_datetime(found["inspected_on"]).to_numpy().astype("datetime64[D]").astype(np.int64)
        if len(found)
        else np.empty(0, np.int64)
    )
    first_found = np.full(len(rose), NEVER, dtype=np.int64)
    at = pd.Series(np.arange(len(rose)), index=world.uscc[rose])
    hit = found["uscc"].map(at).to_numpy(dtype="float64")
    mine = np.isfinite(hit)
    idx, when = hit[mine].astype(np.int64), found_day[mine]
    after = when >= world.turn_day[rose[idx]]  # a finding before the rise was of the old risk
    np.minimum.at(first_found, idx[after], when[after])
    waited = (first_found - world.turn_day[rose]) / DAYS_PER_MONTH
    alive = int(((world.est_day <= end) & (world.exit_day > end)).sum())
    q = budget / max(alive, 1)  # the monthly chance of any firm under a uniform allocation of the same budget
    p_after = world.p_after[rose]
    return Detection(
        firms=len(rose),
        tier_within={h: float(np.mean(lag < h)) if len(lag) else float("nan") for h in horizons},
        tier_median=float(np.nanmedian(lag)) if np.isfinite(lag).any() else float("nan"),
        low_before=len(low),
        found_within={h: float(np.mean(waited < h)) if len(rose) else float("nan") for h in horizons},
        uniform_within={h: float(np.mean(1 - (1 - q * p_after) ** h)) if len(rose) else float("nan") for h in horizons},
        budget=budget,
    )
