"""Benchmark: the month's dynamic ratios under capacity (动态调整抽查比例) at full city scale.

    python bench/bench_allocation.py [--entities 700000] [--workdir DIR] [--seed 20240601]

The allocation reads only the month's sampling frames, the tiers of the rate window, the random inspections known
by M with their plans' π, and the inspector directory. Running the whole chain for a 700,000-entity city to get
them takes hours on two cores, so this benchmark writes exactly those tables, at that scale, with the pipeline's
own DDL (not timed): ~40 % of the entities tiered (as the synthetic city's enterprises), 13 months of tiers with
3 % of firms changing tier a month; for tier month M = 2024-05 (the plans of June: every plan of
config/sampling_plans.yaml draws then) the frames of the six plans (scopes of 100 %, 12 %, 25 %, 5 %, 2 % and 3 %
of the tiered firms, A-tier left out of 无事不扰 plans); a year of random inspections of those plans, 1 % of each
plan's scope a month with problems found at 5/12/30/50 % by tier, and their plans with π, plus as many triggered
and special inspections, which the allocation must skip; and a directory of one inspector per 1,000 entities
(mostly SCJGJ; some inactive, some with lapsing certificates, qualified as the synthetic city's staff are).
A --workdir keeps the warehouse for a rerun (rebuilt when absent).

Then it times one call of `proposals.build_allocation` as the asset makes it (the shipped policy, reports into a
temporary folder), split into its steps by timers wrapped around the library at run time (nothing in lib/ changes):
the frames' sizes, the random inspections read, the rates (Hájek per plan × tier), the inspector pools, the linear
programme, the frontier, the tables' transaction and the reports (the YAML proposal, the SVG plot; the first call
imports matplotlib). Then the blocking check's SQL. Prints the proposal's summary, the steps, the total and the
load average before and after. Target (issue 15): allocation <= 10 s on 2 cores for the 700,000-entity city.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import os
import resource
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import bench_sampling  # bench/bench_sampling.py: its stopwatch around library calls
import duckdb
import numpy as np
import pandas as pd

from zs_risk_pipeline.lib.core.month import Month
from zs_risk_pipeline.lib.core.sql import load_sql
from zs_risk_pipeline.lib.policy import folder
from zs_risk_pipeline.lib.sampling import allocation, eligibility, frames, plan_policy, proposals

TARGET_S = 10.0
MONTH = "2024-05"  # the plans of June: the quarterly and June-only plans draw too
TIER_SHARES = (0.40, 0.45, 0.10, 0.05)
PROBLEM_RATES = (0.05, 0.12, 0.30, 0.50)  # by tier A..D
SCOPE_SHARE = {"MR-GENERAL": 1.0, "MR-FOOD": 0.12, "MR-PRODUCT": 0.25, "MR-SPECEQ": 0.05, "JT-WSJKJ": 0.02}
SCOPE_SHARE_OTHER = 0.03  # any other configured plan
INSPECTED_A_MONTH = 0.01  # of each plan's scope, by its random plan of the month


def build_inputs(conn: duckdb.DuckDBPyConnection, entities: int, seed: int) -> dict[str, int]:
    """The tables the allocation reads, at the scale of `entities` (see the module's docstring); row counts."""
    rng = np.random.default_rng(seed)
    m = Month.of(MONTH)
    months = [m.shift(-k) for k in range(12, -1, -1)]  # M-12 .. M: the tiers before every inspection of the window
    firms = round(entities * 0.40)
    for name in ("staging/staging.inspections.sql", "staging/staging.plans.sql", "staging/staging.inspectors.sql"):
        conn.execute(load_sql(name))
    conn.execute(load_sql("intermediate/tiers.enterprise_monthly.sql"))
    conn.execute(load_sql("intermediate/sampling.frame.sql"))

    tier = np.empty((len(months), firms), dtype=np.int8)
    tier[0] = rng.choice(4, firms, p=TIER_SHARES)
    for k in range(1, len(months)):
        moved = rng.random(firms) < 0.03
        tier[k] = np.where(moved, rng.choice(4, firms, p=TIER_SHARES), tier[k - 1])
    conn.register(
        "_bench_tiers",
        pd.DataFrame(
            {
                "k": np.repeat(np.arange(len(months), dtype=np.int16), firms),
                "e": np.tile(np.arange(firms, dtype=np.int32), len(months)),
                "t": tier.ravel(),
            }
        ),
    )
    conn.register("_bench_months", pd.DataFrame({"k": np.arange(len(months)), "month": [x.start for x in months]}))
    conn.execute(
        "INSERT INTO tiers.enterprise_monthly BY NAME "
        "SELECT mo.month, printf('91442000%010d', t.e) AS uscc, 'bench' AS model_version, 'scorecard' AS model_kind, "
        "0.0 AS score, 0.1 AS probability, 0.0 AS points, ['A','B','C','D'][t.t + 1] AS tier_by_score, "
        "['A','B','C','D'][t.t + 1] AS tier FROM _bench_tiers t JOIN _bench_months mo USING (k)"
    )

    plans = plan_policy.load_plans()
    scope = {p.id: rng.random(firms) < SCOPE_SHARE.get(p.id, SCOPE_SHARE_OTHER) for p in plans}
    frame_rows, plan_rows, inspections = [], [], []
    for p in frames.plans_active(plans, m.start):
        tiers_now = tier[-1]
        drawn = [plan_policy.TIERS.index(t) for t in frames.frame_rates(p, m.start)]
        members = np.flatnonzero(scope[p.id] & np.isin(tiers_now, drawn))
        frame_rows.append(pd.DataFrame({"plan_id": frames.plan_id(p, m.start), "e": members, "t": tiers_now[members]}))
    for p in plans:
        pool = np.flatnonzero(scope[p.id])
        for k, month in enumerate(months[1:], start=1):  # inspections of M-11 .. M, tiered the month before
            n = max(1, round(INSPECTED_A_MONTH * len(pool)))
            chosen = rng.choice(pool, n, replace=False)
            found = rng.random(n) < np.asarray(PROBLEM_RATES)[tier[k - 1, chosen]]
            pid = f"{p.id}-{month.label}"
            plan_rows.append((pid, "random", len(pool), n, n / len(pool), month.start))
            inspections.append(pd.DataFrame({"plan_id": pid, "e": chosen, "found": found, "k": k, "trigger": "random"}))
            other = rng.choice(pool, n, replace=False)  # chosen for risk, not at random: never a rate
            kind = "triggered" if k % 2 else "special"
            inspections.append(pd.DataFrame({"plan_id": None, "e": other, "found": True, "k": k, "trigger": kind}))
    conn.register("_bench_frame", pd.concat(frame_rows, ignore_index=True))
    conn.execute(
        "INSERT INTO sampling.frame BY NAME "
        "SELECT $month AS month, plan_id, printf('91442000%010d', e) AS uscc, ['A','B','C','D'][t + 1] AS tier, "
        "['A','B','C','D'][t + 1] AS stratum, '0.05' AS rate, 1 AS frame_size, 1 AS sample_size, "
        "0.05 AS inclusion_probability, '442000105' AS town_code, 'C3872' AS industry_code, 'C' AS industry_section "
        "FROM _bench_frame",
        {"month": m.start},
    )
    conn.register(
        "_bench_plans",
        pd.DataFrame(plan_rows, columns=["plan_id", "kind", "frame_size", "sample_size", "pi", "month"]),
    )
    conn.execute(
        "INSERT INTO staging.plans BY NAME SELECT plan_id, kind, month AS drawn_on, frame_size, sample_size, "
        "pi AS inclusion_probability, month AS _delivery_month, 'plans.csv' AS _source_file, '' AS _file_sha256, "
        "row_number() OVER () AS _row_number FROM _bench_plans"
    )
    conn.register("_bench_inspections", pd.concat(inspections, ignore_index=True))
    # Inspected on the 15th; delivered in the month itself (M's results by M's end) or, for a third of them, the
    # month after (so some of M's are not known yet).
    conn.execute(
        "INSERT INTO staging.inspections BY NAME "
        "SELECT 'T-' || row_number() OVER () AS task_id, i.plan_id, printf('91442000%010d', i.e) AS uscc, "
        "mo.month + 14 AS inspected_on, i.trigger, [CASE WHEN i.found THEN 'P' ELSE 'NO_ISSUE' END] AS result_codes, "
        "i.found AS problem_found, "
        "CASE WHEN i.e % 3 = 0 THEN CAST(mo.month + INTERVAL 1 MONTH AS DATE) ELSE mo.month END AS _delivery_month, "
        "'inspections.csv' AS _source_file, '' AS _file_sha256, row_number() OVER () AS _row_number "
        "FROM _bench_inspections i JOIN _bench_months mo USING (k)"
    )
    staff = max(60, entities // 1000)
    department = rng.choice(["SCJGJ", "WSJKJ", "STHJJ", "YJGLJ"], staff, p=[0.85, 0.05, 0.05, 0.05])
    quals = []
    for d in department:
        q = ["general"]
        if d == "SCJGJ":
            q += [x for x, share in (("food", 0.75), ("industrial_product", 0.35), ("special_equipment", 0.2))
                  if rng.random() < share]  # fmt: skip
        quals.append(q)
    valid = np.where(rng.random(staff) < 0.05, dt.date(2024, 6, 10), dt.date(2026, 12, 31))
    conn.register(
        "_bench_inspectors",
        pd.DataFrame(
            {
                "inspector_id": [f"ZS{i:05d}" for i in range(staff)],
                "department": department,
                "qualifications": quals,
                "valid": valid,
                "active": rng.random(staff) >= 0.03,
            }
        ),
    )
    conn.execute(
        "INSERT INTO staging.inspectors BY NAME SELECT inspector_id, department, 'city' AS branch, qualifications, "
        "valid AS certificate_valid_until, active, $month AS _delivery_month, 'inspectors.csv' AS _source_file, "
        "'' AS _file_sha256, row_number() OVER () AS _row_number FROM _bench_inspectors",
        {"month": m.start},
    )
    counts = {}
    for table in (
        "tiers.enterprise_monthly",
        "sampling.frame",
        "staging.plans",
        "staging.inspections",
        "staging.inspectors",
    ):
        counts[table] = conn.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
    return counts


@contextlib.contextmanager
def _timed(watch: bench_sampling.Stopwatch) -> Iterator[None]:
    """Timers around the library calls of build_allocation (bench_sampling.py's stopwatch, one column "-")."""
    targets: list[tuple[Any, str, Callable[..., str] | str]] = [
        (proposals, "run_sql", bench_sampling._sql_name),
        (proposals, "_random_inspections", "random inspections read (SQL)"),
        (proposals, "_hajek", "rates: Hájek per plan × tier (estimates.hajek_rate)"),
        (eligibility, "inspector_pool", "inspector pools (eligibility.inspector_pool)"),
        (allocation, "allocate", "linear programme (allocation.allocate, HiGHS)"),
        (allocation, "frontier", "frontier (allocation.frontier, HiGHS)"),
        (proposals, "proposal_yaml", "report: proposal YAML (ruamel round trip, validated)"),
        (proposals, "frontier_svg", "report: frontier SVG (matplotlib)"),
    ]
    with contextlib.ExitStack() as stack:
        for module, name, label in targets:
            stack.enter_context(mock.patch.object(module, name, watch.wrap(getattr(module, name), label)))
        yield


def main() -> None:
    doc = __doc__ or ""
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--entities", type=int, default=700_000)
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument("--workdir", type=Path, help="keep (or reuse) the benchmark's warehouse here")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="zs-allocation-") as tmp:
        root = args.workdir or Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        path = root / "warehouse.duckdb"
        fresh = not path.exists()
        conn = duckdb.connect(str(path))
        conn.execute("SET enable_progress_bar = false")
        if fresh:
            t0 = time.perf_counter()
            counts = build_inputs(conn, args.entities, args.seed)
            conn.execute("CHECKPOINT")
            print(f"inputs for {args.entities:,} entities written in {time.perf_counter() - t0:.1f} s (not timed):")
            for table, n in counts.items():
                print(f"    {table:28s} {n:12,} rows")
        threads = conn.execute("SELECT current_setting('threads')").fetchall()[0][0]
        policy = folder.current()
        plans = list(policy.sampling_plans)
        print(f"\ntier month {MONTH} (plans of {frames.plan_month(MONTH):%Y-%m}); DuckDB threads {threads}; "
              f"load average before {os.getloadavg()[0]:.2f}")  # fmt: skip
        watch = bench_sampling.Stopwatch()
        with _timed(watch):
            t0 = time.perf_counter()
            proposal = proposals.build_allocation(conn, plans, MONTH, Path(tmp) / "reports", policy)
            total = time.perf_counter() - t0
        t0 = time.perf_counter()
        violations = proposals.violations(conn, MONTH)
        check_s = time.perf_counter() - t0

        rows = proposal.rows
        print(f"\nproposal: {len(rows)} strata of {rows['plan_id'].nunique()} plans; {len(proposal.changed)} ratios "
              f"changed; problems expected a year {proposal.expected_current:,.0f} configured -> "
              f"{proposal.expected_proposed:,.0f} proposed ({100 * proposal.gain_share:+.1f} %)")  # fmt: skip
        for pid, part in rows.groupby("plan_id"):
            cap = proposal.capacities[pid]
            print(f"    {pid:22s} inspectors {cap.inspectors:4d}, capacity {cap.per_year:8,} a year, inspections "
                  f"{part['inspections_current'].sum():9,.0f} -> {part['inspections_proposed'].sum():9,.0f}; "
                  + ", ".join(f"{t} {proposal.ratios[(pid, t)][0]}->{proposal.ratios[(pid, t)][1]}"
                              for t in part["tier"]))  # fmt: skip
        for reason in proposal.unstaffable.values():
            print(f"    no proposal: {reason}")
        print(f"\n    {'step':58s}{'seconds':>10s}")
        for step, s in watch.seconds["-"].items():
            print(f"    {step:58s}{s:10.2f}")
        other = total - sum(watch.seconds["-"].values())  # the timed steps do not nest
        print(f"    {'other (strata, bounds, rounding, binding, transaction)':58s}{other:10.2f}")
        print(f"    {'total build_allocation':58s}{total:10.2f}")
        print(
            f"    {'blocking check (checks/sampling.allocation.sql)':58s}{check_s:10.2f}  violations {len(violations)}"
        )
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"\nload average after {os.getloadavg()[0]:.2f}; peak RSS {peak:,.0f} MB")
        verdict = "within" if total + check_s <= TARGET_S else "ABOVE"
        print(f"allocation + check: {total + check_s:.2f} s, {verdict} the target of {TARGET_S:.0f} s")
        conn.close()


if __name__ == "__main__":
    main()
