"""The synthetic city's commands (合成城市): `synth`, `demo`, and the late information the demo delivers.

The only commands that import the simulated city (zs_risk_synth); the pipeline itself never does.
"""

from __future__ import annotations

import argparse
import os
import shutil
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from zs_risk_pipeline import progress
from zs_risk_pipeline.lib.core import settings
from zs_risk_pipeline.lib.core.month import Month
from zs_risk_pipeline.lib.sampling import frames

if TYPE_CHECKING:  # imported lazily at run time: `zs-risk --help` should not wait for Dagster
    import dagster as dg
from zs_risk_pipeline.cli import common, report, run, verify


def cmd_synth(args: argparse.Namespace) -> int:
    import zs_risk_synth as synth

    paths = common._use_home(args.home, create=True)
    landing = Path(args.landing) if args.landing else paths.landing
    truth = Path(args.truth) if args.truth else paths.ground_truth
    t0 = time.perf_counter()
    summary = synth.generate(
        landing,
        truth,
        enterprises=args.enterprises,
        months=args.months,
        start=args.start,
        seed=args.seed,
        encoding=args.encoding,
        chinese_headers=args.chinese_headers,
        defect_rate=args.defect_rate,
        go_live=getattr(args, "go_live", None),
        handed_over=_configured_prefixes() if getattr(args, "go_live", None) else (),
        progress=common._say,
    )
    paths.restrict()  # the ground truth just written is owner-only, like the rest of the restricted home
    common._say(
        f"synthetic Zhongshan written to {landing} (ground truth in {truth}) in {time.perf_counter() - t0:.1f} s"
    )
    rows = summary.get("rows", {}) if isinstance(summary, dict) else {}
    for name, n in sorted(rows.items()):
        common._say(f"  {name:<16} {n:>12,} rows")
    return 0


def _configured_prefixes() -> tuple[str, ...]:
    """The plans zs-risk drafts (config/sampling_plans.yaml): handed over to it at go-live."""
    from zs_risk_pipeline.lib.sampling import plan_policy

    return tuple(p.id for p in plan_policy.load_plans())


def carry_out(paths: settings.Paths, month: str, last_month: str | None = None) -> str:
    """The simulated inspectorate carries out the plans published for `month` and the trigger queue of the month
    before; returns its line for the console."""
    from zs_risk_synth import inspectorate

    carried = inspectorate.carry_out(
        paths.plans, paths.landing, paths.ground_truth, month, last_month=last_month, warehouse=paths.warehouse
    )
    return carried.line()


def cmd_carry_out(args: argparse.Namespace) -> int:
    paths = common._use_home(args.home)
    common._say(carry_out(paths, args.month, args.last_month))
    return 0


def late_delivery(paths: settings.Paths, held: Path, session: progress.Session | None = None) -> bool:
    """Drop a held-back results file into the landing and let the sensor's reruns follow (see _deliver_late)."""
    from zs_risk_synth import late

    def deliver() -> str:
        target = late.deliver(held, paths.landing)
        rows = sum(1 for _ in held.open(encoding="utf-8")) - 1
        return f"{rows} inspection results of {held.parent.name} arrive late ({target.relative_to(paths.home)})"

    return _deliver_late(paths, deliver, session)


def late_plan_information(paths: settings.Paths, month: str, session: progress.Session | None = None) -> bool:
    """After the task lists of the plans drawn from `month` went out: an inspector declares a conflict (回避) for
    two of his tasks and the personnel office corrects the directory for someone who left, both delivered late
    into `month`; the sensor's rerun amends the published plans (计划变更)."""
    from zs_risk_synth import late_facts

    lists = paths.exports / "task_lists" / f"{frames.plan_month(month):%Y-%m}"

    def deliver() -> str:
        declared = late_facts.declare_conflicts(lists, paths.landing, month)
        leaver = late_facts.inspector_left(lists, paths.landing, month)
        said = [f"{len(declared)} conflict declarations (回避: " + ", ".join(f"{i} for {u}" for i, u in declared) + ")"]
        said += [f"a corrected inspector directory ({leaver} has left)"] if leaver else []
        return " and ".join(said) + f" arrive late for {month}, after the task lists went out"

    return _deliver_late(paths, deliver, session)


def _deliver_late(paths: settings.Paths, deliver: Callable[[], str], session: progress.Session | None = None) -> bool:
    """Deliver late files, tick the sensor as the daemon would, run what it requests, and show what changed: the
    table-months re-published, the amendments recorded, and that every published plan's own files stayed
    byte-identical."""
    import dagster as dg

    from zs_risk_pipeline.defs.automation import inspection_results_sensor
    from zs_risk_pipeline.defs.resources import ZsRiskHome
    from zs_risk_pipeline.lib.core import digest

    def tick(instance: dg.DagsterInstance, cursor: str | None) -> dg.SensorResult:
        resources = {"zs_home": ZsRiskHome(home=str(paths.home))}
        return inspection_results_sensor(dg.build_sensor_context(instance=instance, cursor=cursor, resources=resources))

    own = session is None
    session = session or run._session(paths, "run.log")
    job = session.defs.resolve_job_def("monthly_chain")
    plans_before = digest.sha256_tree(paths.plans)
    amendments_before = run._amendment_rows(paths)
    last_entry = run._publish_log(paths, "ops/audit.publish_log.sql#tail")
    with dg.DagsterInstance.get() as instance:
        baseline = tick(instance, None)
        what = deliver()
        requests = tick(instance, baseline.cursor).run_requests
        common._say(
            f"\n== late delivery: {what}; the sensor requests {len(requests)} run{'s' * (len(requests) != 1)}: "
            + ", ".join(r.partition_key[:7] for r in requests)
        )
        labels = [f"[rerun {i}/{len(requests)}] {r.partition_key[:7]}" for i, r in enumerate(requests, start=1)]
        ok = all(
            run._run_month(job, instance, r.partition_key, label, r.tags, None, session)
            for r, label in zip(requests, labels, strict=True)
        )
    if own:
        run._end_session(session, tally=False)
    since = last_entry[0][0] if last_entry else 0
    republished = run._publish_log(paths, "ops/audit.publish_log.sql#since", {"seq": since})
    common._say(
        "re-published as new versions (earlier versions kept): "
        + (", ".join(f"{table} {month} v{version}" for table, month, version in republished) or "none")
        + "; every other published table-month of the reruns came out unchanged"
    )
    new = [a for a in run._amendment_rows(paths) if a not in amendments_before]
    common._say(f"amendments of published plans (计划变更) recorded by the reruns: {len(new)}")
    for plan_id in sorted({p for p, _ in new}):
        mine = [a for p, a in new if p == plan_id]
        why = Counter(a.reason.split(";")[0] for a in mine)
        unstaffed = sum(not a.replacement for a in mine)
        common._say(
            f"  {plan_id}: {len(mine)} ({len(mine) - unstaffed} replaced, {unstaffed} left unstaffed with the reason); "
            + ", ".join(f"{r} {n}" for r, n in sorted(why.items()))
        )
        shown = {r: [a for a in mine if a.reason.split(";")[0] == r][:2] for r in sorted(why)}
        for a in (a for examples in shown.values() for a in examples):
            common._say(f"    {a.uscc}: {a.replaced} → {a.replacement or 'nobody'} ({a.reason}; round {a.round})")
    if new:
        common._say(f"  every amendment: zs-risk verify-draw PLAN_ID, or {paths.plans}/<PLAN_ID>/amendments.csv")
    plans_after = digest.sha256_tree(paths.plans)
    same = sum(plans_after.get(f) == h for f, h in plans_before.items() if not run._is_amendment_record(f))
    drawn = sum(1 for f in plans_before if not run._is_amendment_record(f))
    records = sorted({f.split("/")[0] for f in plans_after if run._is_amendment_record(f)})
    common._say(
        f"published plans after the reruns: {same} of {drawn} draw files byte-identical; "
        f"amendment records (append-only) in {len(records)} plan(s)" + (f": {', '.join(records)}" if records else "")
    )
    grew = all(plans_after.get(f) == h or run._is_amendment_record(f) for f, h in plans_before.items())
    return ok and same == drawn and grew


def cmd_demo(args: argparse.Namespace) -> int:
    from zs_risk_pipeline.lib.evidence import signing

    paths = common._use_home(args.home, create=True)
    _operator_policy(paths)
    os.environ[settings.PII_KEY_ENV] = common.demo_key(paths)
    os.environ.setdefault(signing.SIGNING_KEY_ENV, common.demo_signing_key(paths))
    first = common.DEMO["start"]
    months = common._months(first, "2099-12")[: args.months]
    # One member unit's results of the third-last month arrive after the whole run: the feedback loop's demo.
    late_month = months[-3] if len(months) >= 3 else None
    held_dir = paths.home / "held_back"
    go_live = common.DEMO["go_live"] if common.DEMO["go_live"] in months[1:] else None
    clock = progress.StageClock()
    if not any(paths.landing.glob("*/*/*")):
        with clock.stage("synthetic city"):
            _synth_demo(paths, args, months, go_live)
            if late_month and (go_live is None or late_month < go_live):
                _hold_back(paths, late_month, months[-1], held_dir)  # the city's own results (no closed loop)
    else:
        common._say(f"== landing files already in {paths.landing}; reusing them (delete {paths.home} to start over)")

    from zs_risk_synth import inspectorate

    def inspectorate_after(month: str) -> None:
        """Closed loop: once month M is built, the inspectorate carries out the plans drafted for M+1."""
        following = Month.of(month).shift(1).label
        if go_live is None or following < go_live or following not in months:
            return
        _adopt_proposal(paths, month)
        if inspectorate.carried_out_before(paths.ground_truth, following):
            return  # carried out by an earlier demo run in this home
        common._say(f"   {carry_out(paths, following, months[-1])}")
        if following == late_month:
            _hold_back(paths, late_month, months[-1], held_dir)

    session = run._session(paths, "demo.log", heads=False)  # verify says the head once, at the end
    session.warnings_per_run = False  # named once, with counts, after the runs
    common._say(
        f"== running {len(months)} months through Dagster ({months[0]} … {months[-1]}); "
        f"Dagster's log of every run: {session.log.path}"
    )
    try:
        with clock.stage(f"{len(months)} months"):
            ok = run.run_months(months, session=session, after_month=inspectorate_after)
        pending = [
            f
            for f in sorted(held_dir.glob("*/*.csv"))
            if not (paths.landing / "inspections" / f.parent.name / f.name).exists()
        ]
        if ok and pending:
            with clock.stage("late delivery and its reruns"):
                for held in pending:
                    ok = late_delivery(paths, held, session) and ok
        if ok:
            with clock.stage("late plan information and its rerun"):
                ok = late_plan_information(paths, months[-1], session) and ok
        common._say("")
        for line in session.tally.lines():
            common._say(line)
        if session.failed_runs:
            common._say(f"{session.failed_runs} run(s) failed; Dagster's full log of every run: {session.log.path}")
        slowest = session.slowest()
    finally:
        session.close()
    with clock.stage("summary, verify, draw verification"):
        report.print_summary(paths)
        if go_live:
            _against_truth(paths, [m for m in months if m >= go_live], months[-1])
        verified = verify.cmd_verify(argparse.Namespace(home=None)) == 0
        drawn = ok and verified and verify.verify_all_draws(paths)
    common._say("")
    for line in clock.lines(slowest):
        common._say(line)
    return 0 if drawn else 1


def _operator_policy(paths: settings.Paths) -> None:
    """The demo's operator keeps the bureau's policy in the home (<home>/config, a copy of the folder in use on a new
    home) and adopts the allocation's proposals into it; every later command on this home reads it."""
    from zs_risk_pipeline.lib.core import resources

    if not paths.policy.is_dir():
        shutil.copytree(resources.check_config(), paths.policy)
    os.environ[resources.CONFIG_ENV] = str(paths.policy)


def _adopt_proposal(paths: settings.Paths, month: str) -> None:
    """The operator adopts the proposal of month M (动态调整): the plans of M+1 are published, the next draws follow
    it. A proposal adopted by an earlier demo run in this home is left alone."""
    from zs_risk_pipeline.cli import adopt
    from zs_risk_pipeline.lib.sampling import adoption

    if (paths.reports / "allocation" / month / adoption.RECORD_FILE).is_file():
        return
    try:
        done = adopt.adopt(paths, month)
    except adoption.AdoptionError as e:
        common._say(f"   ratios not adopted: {e}")
        return
    common._say(f"   operator adopted the proposal of {month}: {done.summary()}")


def _synth_demo(paths: settings.Paths, args: argparse.Namespace, months: list[str], go_live: str | None) -> None:
    """The demo's synthetic city: the city's own plans until go-live, zs-risk's from then on."""
    common._say(f"== generating the synthetic city: {args.enterprises:,} entities x {args.months} months")
    if go_live:
        common._say(
            f"   closed loop: the city's own inspection plans until {Month.of(go_live).shift(-1).label}; "
            f"from {go_live} the simulated inspectorate carries out the plans zs-risk publishes, month by month"
        )
    ns = argparse.Namespace(
        home=None,
        landing=None,
        truth=None,
        enterprises=args.enterprises,
        months=args.months,
        start=months[0],
        seed=common.DEMO["seed"],
        encoding="utf-8",
        chinese_headers=False,
        defect_rate=common.DEMO["defect_rate"],
        go_live=go_live,
    )
    cmd_synth(ns)


def _hold_back(paths: settings.Paths, late_month: str, last_month: str, held_dir: Path) -> None:
    """One member unit's results of `late_month` held back until after the whole run: the feedback loop's demo."""
    from datetime import date, timedelta

    from zs_risk_pipeline.lib.core import workdays
    from zs_risk_pipeline.lib.publicity import export_rules
    from zs_risk_synth import late

    # Delivered after the whole run: entered on the first working day of the month after the last one.
    calendar = export_rules.load_config().calendar
    after = workdays.roll_forward(Month.of(last_month).end + timedelta(days=1), calendar)
    delivered_on = after.dates[0].astype(date)
    plan_id = f"{common.DEMO['late_plan']}-{late_month}"
    held = late.hold_back(paths.landing, held_dir, late_month, plan_id, delivered_on)
    common._say(f"   held back until the end: {held.relative_to(paths.home)}")


def _against_truth(paths: settings.Paths, carried: list[str], last_month: str) -> None:
    """What only the simulation can say: the plans' expected findings against a uniform draw and the oracle, the
    realised rates by stratum, and how early zs-risk notices firms whose risk rose."""
    import pandas as pd

    from zs_risk_synth import yardstick

    common._say("\n== against the hidden truth (simulation only: the pipeline never reads it)")
    y = yardstick.plan_yield(paths.plans, paths.ground_truth, carried)
    if y.by_plan.empty:
        common._say("  no published plan was carried out")
        return
    n = int(y.by_plan["n"].sum())
    common._say(
        f"  the plans carried out {carried[0]} … {carried[-1]} ({len(y.by_plan)} plan-months, {n:,} tasks): expected "
        f"problems found {y.plan:,.0f}; a uniform random draw of the same size from the same frames {y.uniform:,.0f} "
        f"({y.plan / y.uniform:.2f}x); the oracle (each frame's riskiest firms) {y.oracle:,.0f}; "
        f"efficiency (plan - uniform) / (oracle - uniform) = {y.efficiency:.2f}"
    )
    per = y.by_plan.assign(prefix=y.by_plan["plan_id"].str.replace(r"-\d{4}-\d{2}$", "", regex=True))
    for prefix, g in per.groupby("prefix", sort=True):
        span = g["oracle"].sum() - g["uniform"].sum()
        eff = (g["plan"].sum() - g["uniform"].sum()) / span if span > 0 else float("nan")
        common._say(
            f"    {prefix:<12} {int(g['n'].sum()):>6,} tasks: plan {g['plan'].sum():>7,.1f}, uniform "
            f"{g['uniform'].sum():>7,.1f}, oracle {g['oracle'].sum():>7,.1f}, efficiency {eff:.2f}"
        )
    records = pd.concat(
        [
            pd.read_csv(paths.ground_truth / "inspectorate" / f"{m}.csv", dtype=str)
            for m in carried
            if (paths.ground_truth / "inspectorate" / f"{m}.csv").exists()
        ],
        ignore_index=True,
    )
    done = records[(records["status"] == "carried_out") & (records["trigger"] == "random")]
    stratum = done["plan_id"].str.split("/").str[1]
    found = done["problem_found"] == "True"
    rates = found.groupby(stratum).agg(["mean", "size"])
    common._say(
        "  realised problem-found rate of zs-risk's own plans by stratum (tier at the draw): "
        + ", ".join(f"{t} {r['mean']:.1%} of {int(r['size']):,}" for t, r in rates.iterrows())
        + (
            " (ordered A < B < C < D)"
            if rates["mean"].is_monotonic_increasing and len(rates) == 4
            else " (NOT ordered)"
        )
    )
    d = yardstick.detection(paths.ground_truth, paths.warehouse, carried[0], last_month)
    common._say(
        f"  time to detection: {d.firms:,} firms whose risk rose after go-live (6 months of follow-up); of the "
        f"{d.low_before:,} in tier A/B before, the tier reached C/D within 3 months for {d.tier_within[3]:.0%}, "
        f"within 6 for {d.tier_within[6]:.0%} (median {d.tier_median:.0f} months); an inspection found the problem "
        f"within 6 months: zs-risk {d.found_within[6]:.1%} vs a uniform random allocation of the same "
        f"{d.budget:,.0f} inspections a month {d.uniform_within[6]:.1%}"
    )
