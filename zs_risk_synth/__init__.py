"""The synthetic Zhongshan (合成中山): landing files for every source of the data contract, month by month,
plus hidden ground truth for testing the pipeline against.

    import zs_risk_synth as synth
    summary = synth.generate(landing, truth, enterprises=3000, months=6, start="2023-01", seed=1)

Same arguments → byte-identical files. Plain Python + numpy/pyarrow, vectorised over the population.
"""

from __future__ import annotations

import codecs
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from zs_risk_pipeline.lib.ingest.contract import sources
from zs_risk_synth import consequences, licences, population, registry, world_truth
from zs_risk_synth import events as E
from zs_risk_synth import files as zs_risk_synth_files
from zs_risk_synth import inspections as I
from zs_risk_synth import inspectors as zs_risk_synth_inspectors
from zs_risk_synth import output as O
from zs_risk_synth._util import Calendar, Streams, concat, first_of_runs, take

__all__ = ["DEFECT_CLASSES", "generate"]

DEFECT_CLASSES = zs_risk_synth_files.DEFECT_CLASSES


def generate(
    landing_dir: Path,
    truth_dir: Path,
    *,
    enterprises: int,
    months: int,
    start: str,
    seed: int,
    encoding: str = "utf-8",
    chinese_headers: bool = False,
    defect_rate: float = 0.0,
    go_live: str | None = None,
    handed_over: Sequence[str] = (),
    progress: Callable[[str], None] | None = None,
) -> dict:
    """Write `months` monthly deliveries from `start` ("YYYY-MM") of a city with `enterprises` registered
    market entities in its first snapshot; ground truth (latent risk, injected defects) goes to `truth_dir`.

    encoding applies to CSV files ("utf-8" or "gb18030"); chinese_headers writes the contract's Chinese
    aliases as column names; defect_rate is the share of CSV data rows given one injected defect.
    go_live ("YYYY-MM") and handed_over (plan-id prefixes): from that month on those plans are zs-risk's, carried
    out by `inspectorate.carry_out` after each month is built; the city draws them only before (the cold start).
    Returns a summary: rows per source, files written, defects, seconds.
    """
    t0 = time.perf_counter()
    say = progress or (lambda _msg: None)
    landing_dir, truth_dir = Path(landing_dir), Path(truth_dir)
    if truth_dir.resolve().is_relative_to(landing_dir.resolve()):
        raise ValueError("ground truth must be written outside the landing folder")
    if not 0.0 <= defect_rate <= 1.0:
        raise ValueError("defect_rate must be between 0 and 1")
    encoding = codecs.lookup(encoding).name  # raises on an unknown encoding
    cal = Calendar(start, months)
    streams = Streams(seed)
    contract = sources()

    say(f"synth: {enterprises:,} entities, {months} months from {start}")
    pop = population.build(cal, streams, enterprises)
    say(f"synth: population of {pop.n:,} entities (incl. later registrations)")
    inspectors = zs_risk_synth_inspectors.build_inspectors(pop, cal, streams)
    conflicts = zs_risk_synth_inspectors.build_conflicts(pop, cal, streams, inspectors)
    reports, seasons = E.annual_reports(pop, cal, streams)
    late = E.late_report_listings(pop, cal, streams, seasons)
    complaints = E.complaints(pop, cal, streams)
    go_live_index = None if go_live is None else _month_index(cal, go_live)
    insp_ev, plan_draws = I.draw_inspections(pop, cal, streams, complaints, tuple(handed_over), go_live_index)
    codes, p_true = I.results(pop, streams, insp_ev, seasons)
    abn_found, penalty_triggers, fraud = consequences.consequences(pop, cal, streams, insp_ev, codes, complaints)
    consequences.withdraw_registrations(pop, cal, fraud)
    # What a withdrawn registration no longer does: report, draw complaints; a later check finds it gone.
    gone = pop.exit_day[insp_ev["idx"]] <= insp_ev["day"]
    codes = np.where(gone, I.BIT["CLOSED_OR_EXITED"], codes)
    p_true = np.where(gone, 0.0, p_true)
    complaints = take(complaints, np.flatnonzero(complaints["day"] < pop.exit_day[complaints["idx"]]))
    reports = take(reports, np.flatnonzero(reports["day"] < pop.exit_day[reports["idx"]]))
    pen = E.penalties(pop, cal, streams, penalty_triggers)
    abnormal = E.consistent_listings(concat([late, abn_found]), pop, cal)
    dishonest = E.dishonest(pop, cal, streams, abnormal, pen, fraud)
    lic = licences.licences(pop, cal, streams, pen)
    dept, i1, i2 = I.assign_inspectors(pop, cal, streams, insp_ev, inspectors, conflicts)
    # The inspectorate enters each result some working days after the inspection and delivers weekly; a result
    # entered after the window's last day is not delivered yet (still in transit).
    recorded = consequences.recorded_days(streams, insp_ev)
    delivered = np.minimum(cal.month_of(recorded), months)
    say("synth: events drawn; building registry deliveries")
    reg = registry.registry_rows(pop, cal, streams)

    world = O.World(
        cal=cal,
        pop=pop,
        registry=reg,
        reports=reports,
        abnormal=abnormal,
        dishonest=dishonest,
        penalties=pen,
        case_no=E.case_numbers(cal, pen, per_year=len(pen["idx"]) * 12 / months),
        complaints=complaints,
        complaint_seq=np.arange(1, len(complaints["idx"]) + 1),
        licences=lic,
        plans=plan_draws,
        inspections=insp_ev,
        codes=codes,
        dept=dept,
        inspector_1=i1,
        inspector_2=i2,
        task_seq=_task_seq(insp_ev),
        inspectors=inspectors,
        conflicts=conflicts,
        recorded=recorded,
        delivered=delivered,
        delivery_day=consequences.delivery_days(recorded),
        chinese_headers=chinese_headers,
    )

    rows = dict.fromkeys(contract, 0)
    files = 0
    defects: list[dict] = []
    for m in range(months):
        for name, source in contract.items():
            for rel, table in zs_risk_synth_files.deliveries(world, name, m):
                if not table.num_rows and name == "inspections":
                    continue  # a week without results: no weekly file
                # A monthly source with nothing to report still delivers (a file without rows), as
                # config/deliveries.yaml expects: silence would look like a missing delivery.
                if table.num_rows and defect_rate > 0 and zs_risk_synth_files.FORMATS.get(name, "csv") == "csv":
                    # One stream per file; the monthly sources keep the stream they always had.
                    names = (name, m) if name != "inspections" else (name, m, Path(rel).stem)
                    rng = streams.rng("defects", *names)
                    table, found = zs_risk_synth_files.inject_defects(table, source, rng, defect_rate, cal.month_end(m))
                    if len(found["row_number"]):
                        found.update(source=name, month=cal.label(m), file=rel)
                        defects.append(found)
                zs_risk_synth_files.write_table(
                    table, landing_dir / rel, source, encoding=encoding, chinese=chinese_headers
                )
                rows[name] += table.num_rows
                files += 1
        say(f"synth: {cal.label(m)} written")

    truth_dir.mkdir(parents=True, exist_ok=True)
    pq.write_table(
        pa.table(
            {
                "uscc": pa.array(pop.uscc),
                "latent_risk": pa.array(pop.latent),
                "p_problem": pa.array(pop.p_problem),
                # The hidden moment the firm's risk moved, and its problem probability from then on.
                "risk_moved_on": O.dates32(pop.turn_day),
                "risk_shift": pa.array(pop.turn_shift),
                "p_problem_after": pa.array(pop.p_after),
            }
        ),
        truth_dir / "latent_risk.parquet",
        compression="zstd",
        compression_level=3,
        data_page_version="1.0",
    )
    world_truth.write(
        truth_dir, pop, seasons, seed=seed, start=start, months=months, go_live=go_live, handed_over=handed_over
    )
    # Per inspection: the true probability that it finds a problem (the oracle the model is measured against),
    # the day its result was entered and the landing file that delivered it (empty: after the window).
    everything = np.arange(len(recorded))
    pq.write_table(
        pa.table(
            {
                "task_id": O.inspection_ids(world, everything)[0],
                "p_problem": pa.array(p_true, pa.float64()),
                "recorded_on": O.dates32(recorded),
                "landing_file": O.inspection_files(world, everything),
            }
        ),
        truth_dir / "inspections.parquet",
        compression="zstd",
        compression_level=3,
        data_page_version="1.0",
    )
    n_defects = _write_defects(truth_dir / "defects.csv", defects)
    seconds = time.perf_counter() - t0
    say(f"synth: {files} files, {sum(rows.values()):,} rows, {n_defects:,} defects in {seconds:.1f} s")
    return {
        "rows": rows,
        "files": files,
        "defects": n_defects,
        "seconds": round(seconds, 3),
        "entities_first_snapshot": enterprises,
        "entities_total": pop.n,
        "inspections_in_transit": int((delivered == months).sum()),
        "months": months,
        "start": start,
        "landing_dir": str(landing_dir),
        "truth_dir": str(truth_dir),
    }


def _month_index(cal: Calendar, label: str) -> int:
    m = int((np.datetime64(label, "M") - np.datetime64(cal.start, "M")).astype(int))
    if not 0 <= m < cal.months:
        raise ValueError(
            f"go_live {label} is outside the generated window {cal.label(0)} … {cal.label(cal.months - 1)}"
        )
    return m


def _task_seq(ev: dict) -> np.ndarray:
    """Task number within each (month, plan): 1, 2, … in order of inspection day."""
    order = np.lexsort((ev["idx"], ev["day"], ev["plan"], ev["month"]))
    starts = first_of_runs([ev["month"][order], ev["plan"][order]]) if len(order) else np.zeros(0, bool)
    run_start = np.maximum.accumulate(np.where(starts, np.arange(len(order)), 0)) if len(order) else starts
    seq = np.empty(len(order), dtype=np.int64)
    seq[order] = np.arange(len(order)) - run_start + 1
    return seq


def _write_defects(path: Path, defects: list[dict]) -> int:
    cols = ("source", "month", "file", "row_number", "column", "defect_class")
    if defects:
        n = [len(d["row_number"]) for d in defects]
        table = pa.table(
            {
                "source": pa.array(np.repeat([d["source"] for d in defects], n)),
                "month": pa.array(np.repeat([d["month"] for d in defects], n)),
                "file": pa.array(np.repeat([d["file"] for d in defects], n)),
                "row_number": pa.array(np.concatenate([d["row_number"] for d in defects]).astype(np.int64)),
                "column": pa.array(np.concatenate([d["column"] for d in defects])),
                "defect_class": pa.array(np.concatenate([d["defect_class"] for d in defects])),
            }
        )
    else:
        table = pa.table({c: pa.array([], pa.int64() if c == "row_number" else pa.string()) for c in cols})
    table = table.sort_by([("file", "ascending"), ("row_number", "ascending")])
    path.write_bytes(zs_risk_synth_files.csv_bytes(table, "utf-8"))
    return table.num_rows
