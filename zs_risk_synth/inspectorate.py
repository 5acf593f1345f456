"""The simulated inspectorate (模拟执法检查队伍): after zs-risk has built month M, it carries out the plans zs-risk
published for M+1 and the firms of M's trigger queue, and delivers what a bureau's systems would deliver.

- The plans' tasks are read from the published plan packages (plans/<PLAN_ID>/: selection, assignments and any
  amendments), as the branches receive them; the trigger queue from the warehouse (what the bureau hands its
  branches). The outcome of each inspection is drawn from the city's hidden truth on the day (world_truth.py):
  the firm's problem probability then (its risk may have moved), whether it still operates, whether its due
  annual report is missing (a publicity check finds that).
- Realism a bureau sees: inspections on the statutory working days of M+1; firms found closed or unreachable;
  tasks not carried out (no inspector pair, or not completed in the plan's month), with the reason, in the
  inspectorate's own record (truth/inspectorate/<M+1>.csv; the results system has no row for a task nobody did);
  results entered one to eight working days later and delivered weekly, a share only a month later; results
  entered after the window are in transit.
- Deliveries: `landing/plans/<M+1>/plans_<YYYYMM>_platform.csv`, one row per stratum of each published plan with
  plan_id `<plan_id>/<stratum>`, the plan's name, its frame N, sample n and π = n / N (the double-random platform
  records a stratified draw as one sub-plan per stratum), and `landing/inspections/<folder>/
  inspections_<YYYYMMDD>_platform.csv`, the results with the stratum's plan_id, a task_id `<plan_id>-<nnnnn>` that
  names no stratum, and the inspectors who went (amended ones where a plan was amended); queue inspections are
  marked `triggered`, belong to no plan and are numbered `TQ-<YYYYMM>-<nnnnn>`. What leaves the bureau shows only
  the part of a plan_id before the `/` (a stratum is a tier).

Same home, month and seed → the same files. Never imported by the pipeline.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from zs_risk_pipeline.lib.core import workdays as statutory
from zs_risk_pipeline.lib.sampling import plan_policy
from zs_risk_synth import consequences, world_truth
from zs_risk_synth import files as synth_files
from zs_risk_synth import inspections as I
from zs_risk_synth import profiles as P
from zs_risk_synth._util import Streams, day, iso_dates

NOT_COMPLETED = 0.025  # tasks the pair could not complete within the plan's month (计划期内未完成)
LATE_SHARE = 0.06  # results a member unit enters only weeks later: delivered a month late
LATE_EXTRA_WORKDAYS = (15, 25)
QUEUE_SHARE = 0.8  # the share of the trigger queue the branches get to in the month (触发式检查)
QUEUE_DEPARTMENT = "SCJGJ"  # the market-regulation bureau's branches carry out the queue

UNSTAFFED = "unstaffed"  # no inspector pair was assigned (未匹配检查人员)
INCOMPLETE = "not_completed"  # not completed within the plan's month (计划期内未完成)
REASONS_ZH = {UNSTAFFED: "未匹配检查人员", INCOMPLETE: "计划期内未完成"}

RESULT_COLUMNS = (
    "task_id",
    "plan_id",
    "uscc",
    "inspected_on",
    "trigger",
    "result_codes",
    "result_text",
    "department",
    "inspector_ids",
    "recorded_on",
)


@dataclass
class Carried:
    """What the inspectorate did with a month's plans and queue (the simulation's own record, not a delivery)."""

    month: str
    tasks: int = 0  # tasks of the month's published plans
    carried_out: int = 0
    not_carried_out: dict[str, int] = field(default_factory=dict)  # reason → tasks
    found: int = 0
    queued: int = 0  # firms in the trigger queue (early warnings)
    triggered: int = 0  # of which inspected
    triggered_found: int = 0
    late: int = 0  # results delivered in a later month's folder than the inspection's
    in_transit: int = 0  # results entered after the window: not delivered
    by_plan: dict[str, tuple[int, int]] = field(default_factory=dict)  # plan_id → (inspected, found)
    files: list[Path] = field(default_factory=list)

    def line(self) -> str:
        gaps = ", ".join(f"{n} {r.replace('_', ' ')}" for r, n in sorted(self.not_carried_out.items()) if n)
        per100 = 100 * self.found / self.carried_out if self.carried_out else float("nan")
        return (
            f"carried out {self.month}: {self.carried_out:,} of {self.tasks:,} planned tasks"
            + (f" ({gaps})" if gaps else "")
            + f", {self.found:,} found a problem ({per100:.1f} per 100); "
            f"{self.triggered:,} of {self.queued:,} queued firms inspected (triggered), "
            f"{self.triggered_found:,} found; "
            f"{self.late:,} results delivered late, {self.in_transit:,} in transit"
        )


def previous_month(month: str) -> str:
    """The tier month M of plan month M+1."""
    return str(np.datetime64(month, "M") - 1)


def _workdays(lo: int, hi: int) -> np.ndarray:
    """The statutory working days in [lo, hi] (holidays off, adjusted weekend days on)."""
    return statutory.Calendar().workdays(np.datetime64(lo, "D"), np.datetime64(hi, "D")).astype(np.int64)


def _month_days(month: str) -> tuple[int, int]:
    start = np.datetime64(month, "M")
    return day(f"{month}-01"), int((start + 1).astype("datetime64[D]").astype(np.int64)) - 1


def published_tasks(plans_dir: Path, month: str) -> pd.DataFrame:
    """The tasks of the plans published for `month`, one row per drawn firm: plan, stratum, its N and n, and
    the inspector pair after the plan's amendments (empty when the task stayed unstaffed)."""
    frames = []
    for plan_json in sorted(Path(plans_dir).glob("*/plan.json")):
        meta = json.loads(plan_json.read_text(encoding="utf-8"))
        if meta["month"] != month:
            continue
        folder = plan_json.parent
        sel = pd.read_csv(folder / "selection.csv", dtype=str, keep_default_na=False)
        staff = pd.read_csv(folder / "assignments.csv", dtype=str, keep_default_na=False)
        tasks = sel[["uscc", "stratum"]].merge(staff, on="uscc", how="left", validate="one_to_one").fillna("")
        amended = folder / "amendments.csv"
        if amended.exists():
            tasks = _amend(tasks, pd.read_csv(amended, dtype=str, keep_default_na=False))
        strata = meta["strata"]
        tasks["plan"] = meta["plan_id"]
        tasks["N"] = tasks["stratum"].map(lambda t, s=strata: int(s[t]["N"]))
        tasks["n"] = tasks["stratum"].map(lambda t, s=strata: int(s[t]["n"]))
        frames.append(tasks)
    columns = ["uscc", "stratum", "inspector_1", "inspector_2", "unassigned_reason", "plan", "N", "n"]
    return pd.concat(frames, ignore_index=True)[columns] if frames else pd.DataFrame(columns=columns)


def _amend(tasks: pd.DataFrame, amendments: pd.DataFrame) -> pd.DataFrame:
    """Apply a plan's amendments (计划变更) in their rounds: each replaced inspector gives way to the replacement,
    or leaves the task unstaffed when none was found."""
    if amendments.empty:
        return tasks
    last = amendments.assign(round=amendments["round"].astype(int)).sort_values("round", kind="stable")
    for _, rnd in last.groupby("round", sort=True):  # a few rounds, each applied to all tasks at once
        swap = dict(zip(rnd["uscc"] + "|" + rnd["replaced"], rnd["replacement"], strict=True))
        for col in ("inspector_1", "inspector_2"):
            key = tasks["uscc"] + "|" + tasks[col]
            tasks[col] = key.map(swap).where(key.isin(swap.keys()), tasks[col])
    return tasks


def trigger_queue(warehouse: Path | None, tier_month: str) -> np.ndarray:
    """The firms of the tier month's trigger queue raised by early warnings (complaints are handled by the city's
    own complaint checks), as the bureau hands them out."""
    if warehouse is None or not Path(warehouse).exists():
        return np.empty(0, dtype=str)
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        exists = conn.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'sampling' AND table_name = 'trigger_queue'"
        ).fetchone()
        if not exists or not exists[0]:
            return np.empty(0, dtype=str)
        rows = conn.execute(
            "SELECT DISTINCT uscc FROM sampling.trigger_queue WHERE month = ?::DATE AND trigger_type = 'early_warning' "
            "ORDER BY uscc",
            [f"{tier_month}-01"],
        ).fetchall()
    return np.array([r[0] for r in rows], dtype=str)


def _queue_pairs(rng: np.random.Generator, landing: Path, tier_month: str, towns: np.ndarray) -> np.ndarray:
    """An inspector pair for each queued firm: two active inspectors of the bureau's branch of the firm's town,
    else of the city level, else any of the bureau's, from the directory delivered for the tier month ("" when
    the bureau has fewer than two on the list)."""
    files = sorted((Path(landing) / "inspectors" / tier_month).glob("*.csv"))
    if not files:
        return np.full(len(towns), "", dtype=object)
    directory = pd.concat([pd.read_csv(f, dtype=str, keep_default_na=False) for f in files], ignore_index=True)
    ok = directory[(directory["department"] == QUEUE_DEPARTMENT) & directory["active"].isin(["true", "是"])]
    pairs = np.full(len(towns), "", dtype=object)
    city = ok.loc[ok["branch"] == "city", "inspector_id"].to_numpy()
    anyone = ok["inspector_id"].to_numpy()
    for town in np.unique(towns):  # ~23 towns: a loop over branches, not over firms
        rows = np.flatnonzero(towns == town)
        pool = ok.loc[ok["branch"] == town, "inspector_id"].to_numpy()
        pool = next((p for p in (pool, city, anyone) if len(p) >= 2), anyone)
        if len(pool) < 2:
            continue
        a = rng.integers(0, len(pool), len(rows))
        b = (a + 1 + rng.integers(0, len(pool) - 1, len(rows))) % len(pool)
        pairs[rows] = np.char.add(np.char.add(pool[a].astype(str), ";"), pool[b].astype(str))
    return pairs


def carry_out(
    paths_plans: Path,
    landing: Path,
    truth_dir: Path,
    month: str,
    *,
    last_month: str | None = None,
    warehouse: Path | None = None,
    config: Path | None = None,
) -> Carried:
    """Carry out the plans published for `month` (YYYY-MM, the plan month M+1) and the trigger queue of M, and
    deliver plans and results into `landing`: every delivery, or those up to `last_month` (the end of a simulated
    window; later deliveries are in transit)."""
    world = world_truth.read(truth_dir)
    rng = Streams(int(world.meta["seed"])).rng("inspectorate", month)
    configured = {p.id: p for p in plan_policy.load_plans(config)}
    lo, hi = _month_days(month)
    tier_month = previous_month(month)
    carried = Carried(month=month)

    tasks = published_tasks(paths_plans, month)
    carried.tasks = len(tasks)
    unstaffed = (tasks["inspector_1"] == "") | (tasks["inspector_2"] == "")
    incomplete = ~unstaffed & (rng.random(len(tasks)) < NOT_COMPLETED)
    carried.not_carried_out = {UNSTAFFED: int(unstaffed.sum()), INCOMPLETE: int(incomplete.sum())}
    done = tasks[~(unstaffed | incomplete)].reset_index(drop=True)
    prefix = done["plan"].str.replace(r"-\d{4}-\d{2}$", "", regex=True)
    known = prefix.isin(configured.keys())
    if not known.all():
        raise ValueError(f"published plans {sorted(set(done['plan'][~known]))} are not in the plan configuration")
    publicity = prefix.map(lambda p: configured[p].publicity).to_numpy(dtype=bool)
    department = prefix.map(lambda p: configured[p].department).to_numpy(dtype=object)
    stratum_plan = (done["plan"] + "/" + done["stratum"]).to_numpy(dtype=object)

    queue = trigger_queue(warehouse, tier_month)
    queue = queue[~np.isin(queue, tasks["uscc"].to_numpy(dtype=str))]  # already visited by a plan this month
    carried.queued = len(queue)
    queue = queue[rng.random(len(queue)) < QUEUE_SHARE]
    queue = queue[world.exit_day[world.rows(queue)] > lo] if len(queue) else queue

    uscc = np.concatenate([done["uscc"].to_numpy(dtype=str), queue])
    rows = world.rows(uscc) if len(uscc) else np.empty(0, np.int64)
    n_plan = len(done)
    work = _workdays(lo, hi)
    days = work[rng.integers(0, len(work), len(uscc))]
    trigger = np.concatenate([np.full(n_plan, I.RANDOM, np.int8), np.full(len(queue), I.TRIGGERED, np.int8)])
    publicity_all = np.concatenate([publicity, np.zeros(len(queue), bool)])
    codes, p_true = I.outcomes(
        rng,
        world.p_problem_at(rows, days),
        publicity_all,
        trigger,
        publicity_all & world.report_missing_at(rows, days),
        world.dormant[rows],
        world.exit_day[rows] <= days,
    )
    pairs = np.concatenate(
        [
            (done["inspector_1"] + ";" + done["inspector_2"]).to_numpy(dtype=object),
            _queue_pairs(rng, landing, tier_month, world.town[rows[n_plan:]]),
        ]
    )
    entered_after = rng.integers(consequences.RECORDED_AFTER[0], consequences.RECORDED_AFTER[1] + 1, len(uscc))
    late = rng.random(len(uscc)) < LATE_SHARE
    entered_after = entered_after + np.where(late, rng.integers(*LATE_EXTRA_WORKDAYS, len(uscc)), 0)
    recorded = consequences.workdays_after(days, entered_after)
    delivered = consequences.delivery_days(recorded)

    results = pd.DataFrame(
        {
            "plan_id": np.concatenate([stratum_plan, np.full(len(queue), "", dtype=object)]),
            "uscc": uscc,
            "day": days,
            "trigger": np.asarray(I.TRIGGER, dtype=object)[trigger],
            "codes": codes,
            "department": np.concatenate([department, np.full(len(queue), QUEUE_DEPARTMENT, dtype=object)]),
            "inspector_ids": pairs,
            "recorded": recorded,
            "delivered": delivered,
            "p_true": p_true,
        }
    )
    results["task_id"] = _task_ids(results, month)
    problem = _problem(results["codes"].to_numpy())
    carried.carried_out = n_plan
    carried.found = int(problem[:n_plan].sum())
    carried.triggered = len(queue)
    carried.triggered_found = int(problem[n_plan:].sum())
    for plan, grp in results.iloc[:n_plan].groupby("plan_id", sort=True):
        carried.by_plan[str(plan)] = (len(grp), int(problem[grp.index].sum()))

    folder = _month_labels(delivered)
    carried.late = int((folder > month).sum())
    sent = folder <= last_month if last_month else np.ones(len(folder), dtype=bool)
    carried.in_transit = int((~sent).sum())
    carried.files = [_write_plans(landing, month, tasks, configured, lo)]
    carried.files += _write_results(landing, results[sent], folder[sent])
    _write_record(truth_dir, month, tasks, unstaffed, incomplete, results, problem)
    return carried


def carried_out_before(truth_dir: Path, month: str) -> bool:
    """Whether the inspectorate already carried out `month` in this world (its record of the month exists)."""
    return _record_file(truth_dir, month).exists()


def _record_file(truth_dir: Path, month: str) -> Path:
    return Path(truth_dir) / "inspectorate" / f"{month}.csv"


def _problem(codes: np.ndarray) -> np.ndarray:
    not_problem = I.BIT["NO_ISSUE"] | I.BIT["NO_RELEVANT_ACTIVITY"] | I.BIT["CLOSED_OR_EXITED"]
    return (codes & ~not_problem) != 0


def _month_labels(days: np.ndarray) -> np.ndarray:
    return np.asarray(days, dtype=np.int64).astype("datetime64[D]").astype("datetime64[M]").astype(str)


def _task_ids(results: pd.DataFrame, month: str) -> np.ndarray:
    """`<plan>-<nnnnn>` per plan (across its strata: a task number names no tier) and `TQ-<YYYYMM>-<nnnnn>` for the
    queue, numbered by day and USCC."""
    key = results["plan_id"].str.split("/").str[0].where(results["plan_id"] != "", f"TQ-{month.replace('-', '')}")
    order = np.lexsort((results["uscc"].to_numpy(dtype=str), results["day"].to_numpy(), key.to_numpy(dtype=str)))
    seq = np.empty(len(results), dtype=np.int64)
    ordered = key.to_numpy(dtype=str)[order]
    starts = np.r_[True, ordered[1:] != ordered[:-1]] if len(order) else np.zeros(0, bool)
    run_start = np.maximum.accumulate(np.where(starts, np.arange(len(order)), 0)) if len(order) else starts
    seq[order] = np.arange(len(order)) - run_start + 1
    return (key + "-" + pd.Series(seq).astype(str).str.zfill(5)).to_numpy(dtype=object)


def _write_plans(
    landing: Path, month: str, tasks: pd.DataFrame, configured: dict[str, plan_policy.SamplingPlan], lo: int
) -> Path:
    """One row per stratum of every published plan of the month (from its package: N and n of the stratum)."""
    strata = tasks.drop_duplicates(["plan", "stratum"]).sort_values(["plan", "stratum"], kind="stable")
    prefix = strata["plan"].str.replace(r"-\d{4}-\d{2}$", "", regex=True)
    y, m = month.split("-")
    # Recorded on the month's first working day, as the city records its own draws (before any inspection).
    drawn = iso_dates(_workdays(lo, lo + 14)[:1])[0].as_py()
    table = pd.DataFrame(
        {
            "plan_id": strata["plan"] + "/" + strata["stratum"],
            # The plan's own name: it is shown in the one-public file, where no stratum may be named.
            "plan_name": f"{int(y)}年{int(m)}月" + prefix.map(lambda p: configured[p].name_zh),
            "department": prefix.map(lambda p: configured[p].department),
            "kind": "random",
            "drawn_on": drawn,
            "frame_size": strata["N"].astype(str),
            "sample_size": strata["n"].astype(str),
            # Shortest text that reads back as the same double: the weights 1/π lose nothing in transit.
            "inclusion_probability": (strata["n"] / strata["N"]).map(repr),
        }
    )
    target = Path(landing) / "plans" / month / f"plans_{y}{m}_platform.csv"
    _write_csv(target, table, "plans")
    return target


def _write_results(landing: Path, results: pd.DataFrame, folder: np.ndarray) -> list[Path]:
    """The weekly results files: one per delivery date, in the folder of the month it was delivered in."""
    written = []
    names = iso_dates(results["delivered"].to_numpy()).to_numpy(zero_copy_only=False).astype(str)
    uniq, inv = np.unique(results["codes"].to_numpy(), return_inverse=True)
    code_text = np.array([";".join(c for i, c in enumerate(I.CODES) if u >> i & 1) for u in uniq], dtype=object)
    wording = [t for _, t, _ in P.result_codes()]
    text = np.array(["；".join(wording[i] for i in range(len(I.CODES)) if u >> i & 1) for u in uniq], dtype=object)
    table = pd.DataFrame(
        {
            "task_id": results["task_id"].to_numpy(),
            "plan_id": results["plan_id"].to_numpy(),
            "uscc": results["uscc"].to_numpy(),
            "inspected_on": iso_dates(results["day"].to_numpy()).to_numpy(zero_copy_only=False),
            "trigger": results["trigger"].to_numpy(),
            "result_codes": code_text[inv],
            "result_text": text[inv],
            "department": results["department"].to_numpy(),
            "inspector_ids": results["inspector_ids"].to_numpy(),
            "recorded_on": iso_dates(results["recorded"].to_numpy()).to_numpy(zero_copy_only=False),
        }
    )
    for name in sorted(set(names)):
        sel = names == name
        rows = table[sel].sort_values(["inspected_on", "uscc", "task_id"], kind="stable")
        target = Path(landing) / "inspections" / folder[sel][0] / f"inspections_{name.replace('-', '')}_platform.csv"
        _write_csv(target, rows, "inspections")
        written.append(target)
    return written


def _write_csv(target: Path, table: pd.DataFrame, source: str) -> None:
    """Write as the city writes its CSV deliveries, aside and renamed in (the sensor skips hidden files)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.name}.partial"
    tmp.write_bytes(synth_files.csv_bytes(pa.Table.from_pandas(table.astype(str), preserve_index=False), "utf-8"))
    tmp.rename(target)


def _write_record(
    truth_dir: Path,
    month: str,
    tasks: pd.DataFrame,
    unstaffed: pd.Series,
    incomplete: pd.Series,
    results: pd.DataFrame,
    problem: np.ndarray,
) -> None:
    """The inspectorate's own record of the month (truth side): every task with what became of it and why."""
    status = np.where(unstaffed, UNSTAFFED, np.where(incomplete, INCOMPLETE, "carried_out"))
    record = pd.DataFrame(
        {
            "plan_id": (tasks["plan"] + "/" + tasks["stratum"]).to_numpy(dtype=object),
            "uscc": tasks["uscc"].to_numpy(dtype=object),
            "status": status,
            "reason_zh": pd.Series(status).map(REASONS_ZH).fillna("").to_numpy(dtype=object),
        }
    )
    found = pd.DataFrame(
        {
            "plan_id": results["plan_id"].to_numpy(dtype=object),
            "uscc": results["uscc"].to_numpy(dtype=object),
            "task_id": results["task_id"].to_numpy(dtype=object),
            "trigger": results["trigger"].to_numpy(dtype=object),
            "inspected_on": iso_dates(results["day"].to_numpy()).to_numpy(zero_copy_only=False),
            "problem_found": problem,
            "p_problem": results["p_true"].to_numpy(),  # the oracle's probability (oracle.load_truth)
        }
    )
    record = record.merge(found[found["trigger"] == "random"], on=["plan_id", "uscc"], how="left")
    queue = found[found["trigger"] == "triggered"].assign(status="carried_out", reason_zh="")
    record = pd.concat([record, queue[record.columns]], ignore_index=True)
    target = _record_file(truth_dir, month)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.partial")
    record.to_csv(tmp, index=False, lineterminator="\n")
    tmp.rename(target)  # written last: a month whose record exists was delivered whole
