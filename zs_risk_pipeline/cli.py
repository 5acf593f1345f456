"""The `zs-risk` command (命令行): generate the synthetic city, run months through Dagster, open the UI."""

from __future__ import annotations

import argparse
import difflib
import os
import secrets
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zs_risk_pipeline import progress
from zs_risk_pipeline.lib.core import settings

if TYPE_CHECKING:  # imported lazily at run time: `zs-risk --help` should not wait for Dagster
    import dagster as dg
    import duckdb

# The commands that read the operator policy: they refuse at once when its folder lacks a file.
POLICY_COMMANDS = ("synth", "run", "backfill", "demo", "ui", "summary")
MAX_MISMATCH_LINES = 20
DEMO = {
    "enterprises": 100_000,
    "months": 24,
    "start": "2023-01",
    "seed": 20240601,
    "defect_rate": 0.002,
    "late_plan": "MR-FOOD",  # whose results of one month are delivered late in the demo
}


def _say(msg: str) -> None:
    print(msg, flush=True)


def _months(first: str, last: str) -> list[str]:
    y, m = int(first[:4]), int(first[5:7])
    ly, lm = int(last[:4]), int(last[5:7])
    if (y, m) > (ly, lm):
        raise SystemExit(f"--from {first} lies after --to {last}")
    out = []
    while (y, m) <= (ly, lm):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _month_arg(value: str) -> str:
    if len(value) != 7 or value[4] != "-" or not (value[:4] + value[5:]).isdigit() or not 1 <= int(value[5:]) <= 12:
        raise argparse.ArgumentTypeError(f"{value!r} is not a month YYYY-MM")
    return value


class UsageError(RuntimeError):
    """What the user asked for cannot be done as asked; said in one line, without a traceback."""


def _existing(paths: settings.Paths) -> settings.Paths:
    # A mistyped --home or ZS_RISK_HOME must not become a new, empty home: only demo and synth create one.
    if not paths.home.is_dir():
        raise UsageError(
            f"home {paths.home} does not exist (--home / ${settings.HOME_ENV}): check the path; "
            "`zs-risk demo` or `zs-risk synth` creates a new one"
        )
    return paths


def _read_home(home: str | None) -> settings.Paths:
    """The home as it is, for commands that only read it (verify): nothing created, moved or chmod-ed."""
    if home:
        os.environ[settings.HOME_ENV] = str(Path(home).resolve())
    return _existing(settings.home())


def _use_home(home: str | None, create: bool = False) -> settings.Paths:
    """Point this process (and the Dagster code it loads) at one ZS_RISK_HOME; only `create` makes a new one."""
    from zs_risk_pipeline.lib.core import resources

    if home:
        os.environ[settings.HOME_ENV] = str(Path(home).resolve())
    paths = (settings.home() if create else _existing(settings.home())).ensure()
    os.environ[settings.HOME_ENV] = str(paths.home)
    os.environ["DAGSTER_HOME"] = str(paths.dagster_home)
    instance_yaml = paths.dagster_home / "dagster.yaml"
    if not instance_yaml.exists():
        shutil.copyfile(resources.instance_template(), instance_yaml)
    return paths


def _check_months(months: list[str]) -> None:
    """Refuse months the monthly partitions do not offer, naming the ones they do (read from the partitions
    definition of the home just chosen, so it follows however that definition ends)."""
    from zs_risk_pipeline.defs.partitions import monthly

    valid = [key[:7] for key in monthly.get_partition_keys()]
    outside = [m for m in months if m not in valid]
    if not outside:
        return
    which = ", ".join(outside[:3]) + (f" and {len(outside) - 3} more months" if len(outside) > 3 else "")
    offered = f"{valid[0]} … {valid[-1]}" if valid else "none"
    raise UsageError(f"no monthly partition for {which}: the valid months are {offered}")


def _ui_hint(paths: settings.Paths) -> str:
    """How to open the UI on this home, as zs-risk was installed: `make ui` only in a source checkout with its
    Makefile; otherwise `zs-risk ui`, with the demo's throw-away keys when this is a demo home."""
    from zs_risk_pipeline.lib.core import resources
    from zs_risk_pipeline.lib.evidence import signing

    root = resources.source_checkout()
    if root is not None and (root / "Makefile").is_file():
        return "make ui" if paths.home == root / settings.DEFAULT_HOME else f"{settings.HOME_ENV}={paths.home} make ui"
    keys = ""
    if paths.demo_key_file.is_file() and demo_signing_key_file(paths).is_file():
        keys = (
            f"{settings.PII_KEY_ENV}=$(cat {paths.demo_key_file}) "
            f"{signing.SIGNING_KEY_ENV}=$(cat {demo_signing_key_file(paths)}) "
        )
    return f"{keys}zs-risk --home {paths.home} ui"


def cmd_synth(args: argparse.Namespace) -> int:
    import zs_risk_synth as synth

    paths = _use_home(args.home, create=True)
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
        progress=_say,
    )
    paths.restrict()  # the ground truth just written is owner-only, like the rest of the restricted home
    _say(f"synthetic Zhongshan written to {landing} (ground truth in {truth}) in {time.perf_counter() - t0:.1f} s")
    rows = summary.get("rows", {}) if isinstance(summary, dict) else {}
    for name, n in sorted(rows.items()):
        _say(f"  {name:<16} {n:>12,} rows")
    return 0


class NoLandingData(RuntimeError):
    """The home has no landing files at all: nothing a run could build."""


def _require_landing(paths: settings.Paths) -> None:
    if not any(p.is_file() for p in paths.landing.glob("*/*/*")):
        raise NoLandingData(
            f"no landing data in {paths.landing}: deliver files to landing/<source>/<YYYY-MM>/ "
            "(or run `zs-risk demo` for the synthetic city)"
        )


def run_months(months: list[str], release_reason: str | None = None, session: progress.Session | None = None) -> bool:
    """Materialise the monthly chain for each month, in order, through the Dagster job the UI uses.

    `release_reason`: publish the months although expected sources are missing (recorded as a release).
    `session`: the console and log file shared with the caller's other runs (the demo's); by default the runs
    log to <home>/logs/run.log, and a range of months ends with its warnings tallied."""
    import dagster as dg

    from zs_risk_pipeline.lib.evidence import signing

    settings.pii_key()  # refuse before doing anything when a key is missing
    signing.signer_from_env()
    _require_landing(settings.home())
    own = session is None
    session = session or _session(settings.home(), "run.log")
    if own and len(months) > 1:
        session.warnings_per_run = False
    job = session.defs.resolve_job_def("monthly_chain")
    ok = True
    try:
        with dg.DagsterInstance.get() as instance:
            for i, month in enumerate(months, start=1):
                label = f"[{i}/{len(months)}] {month}"
                ok = _run_month(job, instance, f"{month}-01", label, None, release_reason, session)
                if session.heads:
                    _say_head(settings.home())
                if not ok:
                    break
    finally:
        if own:
            _end_session(session, tally=len(months) > 1)
    return ok


def _session(paths: settings.Paths, log_name: str, heads: bool = True) -> progress.Session:
    from zs_risk_pipeline.definitions import build_defs
    from zs_risk_pipeline.defs.jobs import MONTHLY_GROUPS

    return progress.Session(build_defs(), MONTHLY_GROUPS, paths.logs / log_name, sys.stdout, heads)


def _end_session(session: progress.Session, tally: bool) -> None:
    if tally:
        for line in session.tally.lines():
            _say(line)
    if session.failed_runs:
        _say(f"{session.failed_runs} run(s) failed; Dagster's full log of every run: {session.log.path}")
    session.close()


def _say_head(paths: settings.Paths) -> None:
    """The publish log's head after a run: kept outside the system, it lets anyone detect a truncated log."""
    import duckdb

    from zs_risk_pipeline.lib.core.sql import run_sql

    if not paths.warehouse.exists():
        return
    with duckdb.connect(str(paths.warehouse), read_only=True) as conn:
        tail = run_sql(conn, "publish/log_tail.sql") if _has_publish_log(conn) else []
    if tail:
        _say(f"    publish-log head: entry {tail[0][0]} {tail[0][1]} (keep it outside: zs-risk verify --head HASH)")


def _run_month(
    job: dg.JobDefinition,
    instance: dg.DagsterInstance,
    partition: str,
    label: str,
    tags: dict[str, str] | None = None,
    release_reason: str | None = None,
    session: progress.Session | None = None,
) -> bool:
    """One run of the monthly chain: a progress line while it runs, then one line plus its model decision,
    warnings and failures; Dagster's own log of the run, stack traces included, goes to the session's log file.

    Runs whose process died are marked failed and their pool slots freed first; the run is tagged with this
    process, says who holds a pool slot it waits for, and ends on SIGTERM/SIGINT (see defs/runs.py)."""
    import signal
    import uuid

    import dagster as dg

    from zs_risk_pipeline.defs import runs

    own = session is None
    session = session or _session(settings.home(), "run.log")
    t0 = time.perf_counter()
    # The console logger would print stack traces amid the report: the log file gets everything instead.
    config: dict = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
    if release_reason:
        config["ops"] = {"ingest__deliveries": {"config": {"release_reason": release_reason}}}
    for dead in runs.reap_dead_runs(instance):
        _say(f"{label}: {dead.describe()}")
    run_id = str(uuid.uuid4())
    shown = session.progress(label)
    kept = runs.SqliteKeptOpen(instance)

    def listen(entry: dg.EventLogEntry) -> None:
        kept.hold_run(run_id)  # its shard exists once its first event is stored
        shown(entry)

    instance.add_event_listener(run_id, listen)
    result = None
    with kept, runs.RunWatch(instance, run_id, lambda msg: shown.say(f"{label}: {msg}")) as watch:
        try:
            result = job.execute_in_process(
                partition_key=partition,
                instance=instance,
                run_config=config,
                raise_on_error=False,
                tags={**(tags or {}), **runs.process_tags()},
                run_id=run_id,
            )
        finally:  # in-process: nothing of the run runs any more, whatever ended it
            runs.release(instance, run_id, "The zs-risk process stopped executing it")
            session.finished(shown, result is not None and result.success)
    if watch.signal is not None:
        _say(f"{label}: stopped by {signal.Signals(watch.signal).name}; run {run_id} ended, its pool slots freed")
        raise SystemExit(128 + watch.signal)
    checks = result.get_asset_check_evaluations()
    failed = [c for c in checks if not c.passed]
    mats = result.get_asset_materialization_events()
    staged = sum(_md_int(m, "staged_rows") for m in mats)
    quarantined = sum(_md_int(m, "quarantined_rows") for m in mats)
    rejected = sum(_md_int(m, "files_rejected") for m in mats)
    # A warning (WARN severity) never blocks: counted on the run's line, named on the next one for a single run,
    # and tallied with the others of a sequence of runs for its end.
    warned = [
        f"{c.asset_key.to_user_string()}:{c.check_name}" for c in failed if c.severity == dg.AssetCheckSeverity.WARN
    ]
    status = "ok" if result.success else "FAILED"
    _say(
        f"{label}: {status}, {len(mats)} assets, "
        f"{len(checks) - len(failed)}/{len(checks)} checks passed"
        + (f" ({len(warned)} warning{'s' * (len(warned) != 1)})" if warned else "")
        + f", {staged:,} rows staged, {quarantined:,} quarantined, {rejected} files rejected "
        f"({time.perf_counter() - t0:.1f} s)"
    )
    model = {m.asset_key.to_user_string(): m.materialization.metadata for m in mats}.get("model/risk_model")
    if model is not None:
        _say(f"    model: {model['status'].value}, serving {model['champion_after'].value}")
    session.tally.add(partition[:7], warned)
    if warned and session.warnings_per_run:
        _say("    warnings (never block): " + ", ".join(w.rsplit(":", 1)[1] for w in warned))
    for c in failed:  # an error check blocks what follows it
        if c.severity == dg.AssetCheckSeverity.WARN:
            continue
        _say(f"    check not passed, what depends on it was not built: {c.asset_key.to_user_string()}:{c.check_name}")
        if c.check_name == "expected_sources_delivered":
            for line in c.metadata["missing_sources"].value:
                _say(f"      missing: {line}")
            _say(
                "      the month is not published and drafts no plans; once the sources are delivered, rerun it, "
                'or release it: zs-risk run --month YYYY-MM --release-missing "reason"'
            )
    for c in checks:
        if c.check_name == "expected_sources_delivered" and c.passed and c.metadata["released"].value:
            _say(f"    released despite missing sources: {c.metadata['release_reason'].value}")
    for ev in result.get_step_failure_events():
        error = ev.event_specific_data.error
        first = (error.message.strip().splitlines() or [error.cls_name or "error"])[0] if error else "failed"
        name = shown.step_names.get(ev.step_key, ev.step_key)
        _say(f"    step failed: {name}: {first} (stack trace: {session.log.path})")
    if own:
        _end_session(session, tally=False)
    return result.success


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
    from zs_risk_pipeline.lib.sampling import plan_policy
    from zs_risk_synth import late_facts

    lists = paths.exports / "task_lists" / f"{plan_policy.plan_month(month):%Y-%m}"

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
    session = session or _session(paths, "run.log")
    job = session.defs.resolve_job_def("monthly_chain")
    plans_before = digest.sha256_tree(paths.plans)
    amendments_before = _amendment_rows(paths)
    last_entry = _publish_log(paths, "publish/log_tail.sql")
    with dg.DagsterInstance.get() as instance:
        baseline = tick(instance, None)
        what = deliver()
        requests = tick(instance, baseline.cursor).run_requests
        _say(
            f"\n== late delivery: {what}; the sensor requests {len(requests)} run{'s' * (len(requests) != 1)}: "
            + ", ".join(r.partition_key[:7] for r in requests)
        )
        labels = [f"[rerun {i}/{len(requests)}] {r.partition_key[:7]}" for i, r in enumerate(requests, start=1)]
        ok = all(
            _run_month(job, instance, r.partition_key, label, r.tags, None, session)
            for r, label in zip(requests, labels, strict=True)
        )
    if own:
        _end_session(session, tally=False)
    since = last_entry[0][0] if last_entry else 0
    republished = _publish_log(paths, "publish/log_since.sql", {"seq": since})
    _say(
        "re-published as new versions (earlier versions kept): "
        + (", ".join(f"{table} {month} v{version}" for table, month, version in republished) or "none")
        + "; every other published table-month of the reruns came out unchanged"
    )
    new = [a for a in _amendment_rows(paths) if a not in amendments_before]
    _say(f"amendments of published plans (计划变更) recorded by the reruns: {len(new)}")
    for plan_id in sorted({p for p, _ in new}):
        mine = [a for p, a in new if p == plan_id]
        why = Counter(a.reason.split(";")[0] for a in mine)
        unstaffed = sum(not a.replacement for a in mine)
        _say(
            f"  {plan_id}: {len(mine)} ({len(mine) - unstaffed} replaced, {unstaffed} left unstaffed with the reason); "
            + ", ".join(f"{r} {n}" for r, n in sorted(why.items()))
        )
        shown = {r: [a for a in mine if a.reason.split(";")[0] == r][:2] for r in sorted(why)}
        for a in (a for examples in shown.values() for a in examples):
            _say(f"    {a.uscc}: {a.replaced} → {a.replacement or 'nobody'} ({a.reason}; round {a.round})")
    if new:
        _say(f"  every amendment: zs-risk verify-draw PLAN_ID, or {paths.plans}/<PLAN_ID>/amendments.csv")
    plans_after = digest.sha256_tree(paths.plans)
    same = sum(plans_after.get(f) == h for f, h in plans_before.items() if not _is_amendment_record(f))
    drawn = sum(1 for f in plans_before if not _is_amendment_record(f))
    records = sorted({f.split("/")[0] for f in plans_after if _is_amendment_record(f)})
    _say(
        f"published plans after the reruns: {same} of {drawn} draw files byte-identical; "
        f"amendment records (append-only) in {len(records)} plan(s)" + (f": {', '.join(records)}" if records else "")
    )
    grew = all(plans_after.get(f) == h or _is_amendment_record(f) for f, h in plans_before.items())
    return ok and same == drawn and grew


def _is_amendment_record(path: str) -> bool:
    from zs_risk_pipeline.lib.sampling import amendments

    return path.rsplit("/", 1)[-1] in (amendments.EXCLUSIONS_FILE, amendments.AMENDMENTS_FILE)


def _amendment_rows(paths: settings.Paths) -> list[tuple[str, Any]]:
    """(plan_id, amendment) of every published plan's recorded amendments, in plan and record order."""
    from zs_risk_pipeline.lib.sampling import amendments

    folders = sorted(p for p in paths.plans.glob("*") if (p / amendments.AMENDMENTS_FILE).is_file())
    return [(f.name, a) for f in folders for a in amendments.staffing(f).amendments]


def _publish_log(paths: settings.Paths, sql_file: str, params: dict | None = None) -> list[tuple]:
    import duckdb

    from zs_risk_pipeline.lib.core.sql import run_sql

    with duckdb.connect(str(paths.warehouse), read_only=True) as conn:
        return run_sql(conn, sql_file, params) if _has_publish_log(conn) else []


def _md_int(event: dg.DagsterEvent, key: str) -> int:
    value = event.materialization.metadata.get(key)
    return int(value.value) if value is not None else 0


def cmd_run(args: argparse.Namespace) -> int:
    _use_home(args.home)
    _check_months([args.month])
    return 0 if run_months([args.month], args.release_missing) else 1


def cmd_backfill(args: argparse.Namespace) -> int:
    _use_home(args.home)
    months = _months(args.from_month, args.to_month)
    _check_months(months)
    return 0 if run_months(months, args.release_missing) else 1


def demo_key(paths: settings.Paths) -> str:
    """A throw-away key for the synthetic city only, kept in ZS_RISK_HOME, never in the repository."""
    if not paths.demo_key_file.exists():
        paths.demo_key_file.write_text(secrets.token_hex(32), encoding="ascii")
        paths.demo_key_file.chmod(0o600)
    return paths.demo_key_file.read_text(encoding="ascii").strip()


def demo_signing_key_file(paths: settings.Paths) -> Path:
    """Where the demo keeps its throw-away signing key: beside the home, never inside it (whoever can write the
    home must not find the key that vouches for it)."""
    return paths.home.parent / f"{paths.home.name}.keys" / "demo_signing_key"


def demo_signing_key(paths: settings.Paths) -> str:
    from zs_risk_pipeline.lib.evidence import signing

    path = demo_signing_key_file(paths)
    if not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        private, _ = signing.new_key()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(private)
    return path.read_text(encoding="ascii").strip()


def cmd_demo(args: argparse.Namespace) -> int:
    from zs_risk_pipeline.lib.evidence import signing

    paths = _use_home(args.home, create=True)
    os.environ[settings.PII_KEY_ENV] = demo_key(paths)
    os.environ.setdefault(signing.SIGNING_KEY_ENV, demo_signing_key(paths))
    first = DEMO["start"]
    months = _months(first, "2099-12")[: args.months]
    # One member unit's results of the third-last month arrive after the whole run: the feedback loop's demo.
    late_month = months[-3] if len(months) >= 3 else None
    held_dir = paths.home / "held_back"
    clock = progress.StageClock()
    if not any(paths.landing.glob("*/*/*")):
        with clock.stage("synthetic city"):
            _synth_demo(paths, args, months, late_month, held_dir)
    else:
        _say(f"== landing files already in {paths.landing}; reusing them (delete {paths.home} to start over)")
    session = _session(paths, "demo.log", heads=False)  # verify says the head once, at the end
    session.warnings_per_run = False  # named once, with counts, after the runs
    _say(
        f"== running {len(months)} months through Dagster ({months[0]} … {months[-1]}); "
        f"Dagster's log of every run: {session.log.path}"
    )
    try:
        with clock.stage(f"{len(months)} months"):
            ok = run_months(months, session=session)
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
        _say("")
        for line in session.tally.lines():
            _say(line)
        if session.failed_runs:
            _say(f"{session.failed_runs} run(s) failed; Dagster's full log of every run: {session.log.path}")
        slowest = session.slowest()
    finally:
        session.close()
    with clock.stage("summary, verify, draw verification"):
        print_summary(paths)
        verified = cmd_verify(argparse.Namespace(home=None)) == 0
        drawn = ok and verified and verify_all_draws(paths)
    _say("")
    for line in clock.lines(slowest):
        _say(line)
    return 0 if drawn else 1


def _synth_demo(
    paths: settings.Paths, args: argparse.Namespace, months: list[str], late_month: str | None, held_dir: Path
) -> None:
    """The demo's synthetic city, with one member unit's results of `late_month` held back until the end."""
    from zs_risk_synth import late

    _say(f"== generating the synthetic city: {args.enterprises:,} entities x {args.months} months")
    ns = argparse.Namespace(
        home=None,
        landing=None,
        truth=None,
        enterprises=args.enterprises,
        months=args.months,
        start=months[0],
        seed=DEMO["seed"],
        encoding="utf-8",
        chinese_headers=False,
        defect_rate=DEMO["defect_rate"],
    )
    cmd_synth(ns)
    if late_month:
        from datetime import date, timedelta

        from zs_risk_pipeline.lib.core import workdays
        from zs_risk_pipeline.lib.ingest.staging import month_end

        # Delivered after the whole run: entered on the first working day of the month after the last one.
        after = workdays.roll_forward(month_end(months[-1]) + timedelta(days=1), workdays.load_calendar())
        delivered_on = after.dates[0].astype(date)
        plan_id = f"{DEMO['late_plan']}-{late_month}"
        held = late.hold_back(paths.landing, held_dir, late_month, plan_id, delivered_on)
        _say(f"== held back until the end: {held.relative_to(paths.home)}")


def verify_all_draws(paths: settings.Paths) -> bool:
    """Recompute every drafted plan from its verification package and check its signed commitment (what
    `zs-risk verify-draw` does for one)."""
    from zs_risk_pipeline.lib.evidence import signing, verification

    verifier = signing.verifier_from_env()
    if verifier is None:
        _say(f"plans not checked: set {signing.VERIFY_KEY_ENV} (the public half of {signing.SIGNING_KEY_ENV})")
        return False
    packages = verification.packages(paths.plans)
    bad = {p.name: problems for p in packages if (problems := verification.package_problems(p, verifier, None))}
    for name, problems in bad.items():
        _say(f"MISMATCH in plan {name}: {problems[0]}")
    _say(f"double-random plans re-drawn from their packages: {len(packages) - len(bad)} of {len(packages)} match")
    return not bad


def _has_publish_log(conn: duckdb.DuckDBPyConnection) -> bool:
    from zs_risk_pipeline.lib.core.sql import run_sql

    return bool(run_sql(conn, "publish/has_log.sql")[0][0])


def print_summary(paths: settings.Paths) -> None:
    import duckdb

    from zs_risk_pipeline.lib.core.sql import SQL_DIR, run_sql
    from zs_risk_pipeline.lib.publish import wap

    _say("\n== results")
    _say(f"warehouse (DuckDB, pipeline-owned): {paths.warehouse}")
    if paths.warehouse.exists():
        with duckdb.connect(str(paths.warehouse), read_only=True) as conn:
            for source, files, raw, staged, quarantined, rejected in run_sql(conn, "ingest/summary.sql"):
                _say(
                    f"  {source:<16} {files:>4} files  {raw:>10,} raw = {staged:>10,} staged + "
                    f"{quarantined:>7,} quarantined   {rejected} files rejected"
                )
            reasons = run_sql(conn, "ingest/quarantine_reasons.sql")
            if reasons:
                _say("  quarantine by reason: " + ", ".join(f"{r} {n:,}" for r, n in reasons))
        with duckdb.connect(str(paths.warehouse), read_only=True) as conn:
            published = run_sql(conn, "publish/published_summary.sql") if _has_publish_log(conn) else []
        if published:
            _say(f"mart for analysts (open read-only with any DuckDB client): {paths.mart / wap.MART_FILE}")
            session = SQL_DIR / "publish" / "analyst_session.sql"
            _say(f"  locked: cd {paths.mart} && duckdb -readonly -init {session} -cmd .safe_mode {wap.MART_FILE}")
            for table, months, first, last, rows, republished in published:
                again = f"; {republished} re-published as a new version (earlier kept)" if republished else ""
                _say(f"  {table:<22} {months:>3} months ({first} … {last}), {rows:,} rows in the latest month{again}")
            with duckdb.connect(str(paths.warehouse), read_only=True) as conn:
                notes = run_sql(conn, "publish/log_notes.sql")
            for table, month, version, changed, release in notes:
                if changed:
                    _say(f"  {table} {month} v{version}: policy changed ({changed})")
                if release:
                    _say(f"  {table} {month} v{version}: released with missing sources ({release})")
    if paths.warehouse.exists():
        print_model_and_tiers(paths)
        print_warnings_and_monitoring(paths)
    _say(f"landing files: {paths.landing}")
    _say(f"ground truth of the synthetic city (never read by the pipeline): {paths.ground_truth}")
    _say(f"open the Dagster UI on this home with:  {_ui_hint(paths)}   (then http://127.0.0.1:3000)")


def print_model_and_tiers(paths: settings.Paths) -> None:
    """The model decisions of the registry (with the synthetic city's oracle beside each trained model's holdout
    AUC), the tier mix of every month and the problem-found rate by tier."""
    import duckdb

    from zs_risk_pipeline.lib.core.sql import run_sql
    from zs_risk_pipeline.lib.model.registry import Registry
    from zs_risk_synth import oracle

    decisions = Registry(paths.models).decisions()
    truth = oracle.load_truth(paths.ground_truth)
    with duckdb.connect(str(paths.warehouse), read_only=True) as conn:
        if decisions:
            _say(f"risk model registry: {paths.models}")
        for d in decisions:
            serving = d.get("champion_after") or "scorecard (cold start)"
            trained = f", challenger {d['trained']}" if d.get("trained") else ""
            hold = (d.get("holdout") or {}).get("challenger")
            auc = ""
            if hold and hold.get("auc") is not None:
                best = oracle.holdout_auc(conn, d["month"], truth) if truth is not None else None
                auc = f", holdout AUC {hold['auc']:.3f}" + (f" (oracle {best:.3f})" if best is not None else "")
            _say(f"  {d['month']}: {d['status']:<13} {d.get('labels', 0):>6,} labels{trained}{auc}; serving {serving}")
            if d["status"] == "kept_champion":
                _say("      not promoted: " + "; ".join(d["reasons"]))
        if not run_sql(conn, "meta/table_exists.sql", {"schema": "tiers", "table": "enterprise_monthly"})[0][0]:
            return
        _say("tier mix by month (internal reference data, never public; 分类结果仅供内部参考), scorer, policy version:")
        previous = None
        for month, version, policy_version, n, a, b, c, d in run_sql(conn, "tiers/mix_by_month.sql"):
            changed = "  (policy changed)" if previous is not None and policy_version != previous else ""
            previous = policy_version
            _say(
                f"  {month}: {n:>8,} enterprises  A {a:6.1%}  B {b:6.1%}  C {c:6.1%}  D {d:6.1%}   {version}  "
                f"policy {policy_version}{changed}"
            )
        rates = run_sql(conn, "tiers/outcomes_by_tier.sql")
        drafted = (
            run_sql(conn, "sampling/plans_summary.sql")
            if run_sql(conn, "meta/table_exists.sql", {"schema": "sampling", "table": "plan"})[0][0]
            else []
        )
    if rates:
        _say("problem-found rate of the next month's random inspections by tier (weighted 1/π):")
        for tier, inspections, found, rate in rates:
            _say(f"  {tier}: {rate:6.1%}  ({found:,} problems in {inspections:,} inspections)")
    if drafted:
        _say(
            f"double-random plans drafted (packages: {paths.plans}; task lists per branch, no tiers: "
            f"{paths.exports / 'task_lists'}):"
        )
        for month, n_plans, tasks, staffed in drafted:
            _say(f"  {month}: {n_plans} plans, {tasks:,} tasks, {staffed:,} with an inspector pair")


def print_warnings_and_monitoring(paths: settings.Paths) -> None:
    """The last tiered month's early warnings and model monitoring, and the latest one-public export."""
    import duckdb

    from zs_risk_pipeline.lib.core.sql import run_sql
    from zs_risk_pipeline.lib.model.registry import Registry
    from zs_risk_pipeline.lib.monitoring import early_warnings, model_monitoring
    from zs_risk_pipeline.lib.publicity import export

    with duckdb.connect(str(paths.warehouse), read_only=True) as conn:
        if not run_sql(conn, "meta/table_exists.sql", {"schema": "tiers", "table": "enterprise_monthly"})[0][0]:
            return
        last = run_sql(conn, "tiers/last_month.sql")[0][0]
        if last is None:
            return
        month = last.isoformat()
        lines = [
            *early_warnings.summary_lines(conn, month),
            # a month whose model started serving in it is shown against the previous scorer's reference month
            *model_monitoring.closing_lines(conn, month, registry=Registry(paths.models)),
            *export.summary_lines(paths, conn),
        ]
    for line in lines:
        _say(line)


def cmd_ui(args: argparse.Namespace) -> int:
    paths = _use_home(args.home)
    if not os.environ.get(settings.PII_KEY_ENV):
        _say(f"note: {settings.PII_KEY_ENV} is not set; runs launched from the UI will refuse to ingest.")
    if not os.environ.get("ZS_RISK_SIGNING_KEY"):
        _say("note: ZS_RISK_SIGNING_KEY is not set; runs launched from the UI will refuse to publish and draw.")
    from zs_risk_pipeline.lib.core import resources

    root = resources.source_checkout()
    if root is not None:
        workspace, cwd = root / "workspace.yaml", root
    else:  # installed: the same code location, loaded by module name (no source tree to work in)
        workspace, cwd = paths.dagster_home / "workspace.yaml", paths.home
        workspace.write_text(
            "load_from:\n  - python_module:\n      module_name: zs_risk_pipeline.definitions\n"
            "      location_name: zs_risk_pipeline\n",
            encoding="utf-8",
        )
    cmd = [sys.executable, "-m", "dagster", "dev", "-w", str(workspace), "-h", args.host, "-p", str(args.port)]
    _say(f"Dagster UI for {paths.home} on http://{args.host}:{args.port}")
    return subprocess.call(cmd, cwd=cwd)


def _verifier(args: argparse.Namespace):  # -> evidence.Verifier | None
    from zs_risk_pipeline.lib.evidence import signing

    if getattr(args, "public_key", None):
        return signing.Verifier.from_hex(args.public_key)
    return signing.verifier_from_env()


def cmd_verify(args: argparse.Namespace) -> int:
    """Check the whole home with the public key: publish log, signatures and heads, mart files and catalogue,
    plan packages against their signed commitments."""
    from zs_risk_pipeline.lib.evidence import signing, verification
    from zs_risk_pipeline.lib.publish import wap

    paths = _read_home(args.home)
    verifier = _verifier(args)
    if verifier is None:
        _say(
            f"zs-risk verify needs the public key: set {signing.VERIFY_KEY_ENV} or pass --public-key "
            f"(the public half of {signing.SIGNING_KEY_ENV})"
        )
        return 2
    anything = paths.warehouse.exists() or wap.heads_file(paths.mart).exists() or (paths.mart / "data").exists()
    if not anything and not getattr(args, "head", None):
        _say("nothing published yet")
        return 0
    report = verification.verify_home(paths, verifier, getattr(args, "head", None))
    for p in report.problems:
        _say(f"TAMPERED: {p}")
    if report.problems:
        _say(f"{len(report.problems)} problem(s)")
        return 1
    _say(
        f"publish log ({report.entries} entries, signed by key {verifier.key_id}), mart files and catalogue, "
        f"{report.packages} plan packages and their signed commitments verified: intact"
    )
    if report.head:
        _say(f"publish-log head: {report.head} (keep it outside the system: zs-risk verify --head {report.head})")
    return 0


def cmd_repoint(args: argparse.Namespace) -> int:
    """Rebuild the mart's catalogue for the home where it now lies (after a copy, a move or a restore), once this
    home's publish log vouches for every file its views will read."""
    import duckdb

    from zs_risk_pipeline.lib.publish import wap

    paths = _read_home(args.home)
    if not paths.mart.is_dir():  # never create a home: a mistyped one would get an empty mart
        _say(f"no mart at {paths.mart}: not a zs-risk home (check --home or ${settings.HOME_ENV})")
        return 1
    conn = duckdb.connect(str(paths.warehouse), read_only=True) if paths.warehouse.exists() else None
    try:
        problems = wap.repoint(conn, paths.mart, _verifier(args))
    finally:
        if conn is not None:
            conn.close()
    if problems:
        for p in problems:
            _say(f"refused: {p}")
        _say(f"{wap.MART_FILE} not re-pointed: this home's publish log does not vouch for its files")
        return 1
    _say(f"{paths.mart / wap.MART_FILE} re-pointed: its views read this home's files ({paths.mart})")
    return 0


def cmd_verify_draw(args: argparse.Namespace) -> int:
    """Recompute a plan's selection, inspector pairs and amendments from its verification package alone, and check
    it against its signed seed commitment (and the home's record of it, when run on a home)."""
    import duckdb

    from zs_risk_pipeline.lib.core.sql import run_sql
    from zs_risk_pipeline.lib.evidence import signing
    from zs_risk_pipeline.lib.sampling import amendments, drawing, protocol

    # With --package no home is needed: an auditor may hold nothing but the package.
    home = None if args.package else _read_home(args.home)
    folder = Path(args.package) if args.package else home.plans / args.plan_id
    if not folder.is_dir():
        if home is None:
            raise UsageError(f"no package folder {folder}")
        drawn = sorted(p.name for p in home.plans.glob("*") if p.is_dir()) if home.plans.is_dir() else []
        nearest = difflib.get_close_matches(args.plan_id, drawn, n=3, cutoff=0.0)
        hint = f"nearest: {', '.join(nearest)}" if nearest else "no plan has been drawn in this home"
        raise UsageError(f"no plan {args.plan_id} in {home.plans} ({hint})")
    problems = amendments.verify(folder)
    verifier = _verifier(args)
    if verifier is None:
        problems.append(f"signed commitment not checked: set {signing.VERIFY_KEY_ENV} or pass --public-key")
    else:
        problems += protocol.commitment_problems(folder, verifier)
    if home is not None and home.warehouse.exists():  # the home's own record of the commitment made at the draw
        with duckdb.connect(str(home.warehouse), read_only=True) as conn:
            if run_sql(conn, "sampling/commitments_exist.sql")[0][0]:
                rows = run_sql(conn, "sampling/commitment_of.sql", {"plan_id": folder.name})
                problems += drawing.commitment_mismatch(folder, rows[0] if rows else None)
    # A wrong seed mismatches every task: the first lines say what is wrong, the count how much.
    for p in problems[:MAX_MISMATCH_LINES]:
        _say(f"MISMATCH: {p}")
    if len(problems) > MAX_MISMATCH_LINES:
        _say(f"… and {len(problems) - MAX_MISMATCH_LINES:,} more mismatches not shown")
    if problems:
        _say(f"{len(problems):,} problem(s)")
        return 1
    staffed = amendments.staffing(folder)
    _say(
        f"{args.plan_id}: selection and assignments match the package and its signed seed commitment"
        + (
            f"; {len(staffed.exclusions)} recorded exclusions and {len(staffed.amendments)} amendments recomputed"
            if staffed.exclusions
            else ""
        )
    )
    return 0


def cmd_summary(args: argparse.Namespace) -> int:
    print_summary(_use_home(args.home))
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="zs-risk", description=__doc__)
    p.add_argument("--home", help=f"deployment folder (default ${settings.HOME_ENV} or ./{settings.DEFAULT_HOME})")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("synth", help="write the synthetic city's landing files")
    s.add_argument("--enterprises", type=int, default=DEMO["enterprises"], help="registered market entities")
    s.add_argument("--months", type=int, default=DEMO["months"])
    s.add_argument("--start", type=_month_arg, default=DEMO["start"])
    s.add_argument("--seed", type=int, default=DEMO["seed"])
    s.add_argument("--landing", help="landing folder (default $ZS_RISK_HOME/landing)")
    s.add_argument("--truth", help="ground-truth folder, outside landing (default $ZS_RISK_HOME/ground_truth)")
    s.add_argument("--encoding", choices=["utf-8", "gb18030"], default="utf-8", help="encoding of CSV files")
    s.add_argument("--chinese-headers", action="store_true", help="write the Chinese column headers")
    s.add_argument("--defect-rate", type=float, default=0.0, help="share of CSV rows with an injected defect")
    s.set_defaults(func=cmd_synth)

    r = sub.add_parser("run", help="materialise one month's chain through Dagster")
    r.add_argument("--month", type=_month_arg, required=True)
    r.add_argument(
        "--release-missing",
        metavar="REASON",
        help="publish the month although expected sources (config/deliveries.yaml) are missing; the reason is recorded",
    )
    r.set_defaults(func=cmd_run)

    b = sub.add_parser("backfill", help="materialise a range of months, oldest first")
    b.add_argument("--from", dest="from_month", type=_month_arg, required=True)
    b.add_argument("--to", dest="to_month", type=_month_arg, required=True)
    b.add_argument("--release-missing", metavar="REASON", help="as for run, for every month of the range")
    b.set_defaults(func=cmd_backfill)

    d = sub.add_parser("demo", help="synthetic city + every month through everything built so far")
    d.add_argument("--enterprises", type=int, default=DEMO["enterprises"])
    d.add_argument("--months", type=int, default=DEMO["months"])
    d.set_defaults(func=cmd_demo)

    u = sub.add_parser("ui", help="the Dagster UI (dagster dev) on this home")
    u.add_argument("--host", default="127.0.0.1")
    u.add_argument("--port", type=int, default=3000)
    u.set_defaults(func=cmd_ui)

    v = sub.add_parser(
        "verify", help="check the publish log, its signatures and heads, the mart and the plan packages (public key)"
    )
    v.add_argument("--head", help="a publish-log head kept outside the system: the log must contain it")
    v.add_argument("--public-key", help="the public key, 64 hex digits (default $ZS_RISK_VERIFY_KEY)")
    v.set_defaults(func=cmd_verify)

    rp = sub.add_parser(
        "repoint", help="rebuild the mart's catalogue for this home after a copy, move or restore (public key)"
    )
    # Also after the subcommand (`zs-risk repoint --home DIR`); SUPPRESS keeps a --home given before it.
    rp.add_argument("--home", default=argparse.SUPPRESS, help="the home as it now lies (default as for every command)")
    rp.add_argument("--public-key", help="the public key, 64 hex digits (default $ZS_RISK_VERIFY_KEY)")
    rp.set_defaults(func=cmd_repoint)

    vd = sub.add_parser("verify-draw", help="recompute a drawn plan from its verification package")
    vd.add_argument("plan_id", help="e.g. MR-GENERAL-2024-04")
    vd.add_argument("--package", help="package folder (default: $ZS_RISK_HOME/plans/PLAN_ID)")
    vd.add_argument("--public-key", help="the public key, 64 hex digits (default $ZS_RISK_VERIFY_KEY)")
    vd.set_defaults(func=cmd_verify_draw)

    m = sub.add_parser("summary", help="print what the warehouse holds")
    m.set_defaults(func=cmd_summary)
    return p


def main(argv: list[str] | None = None) -> int:
    from zs_risk_pipeline.lib.core import resources

    args = build_parser().parse_args(argv)
    try:
        if args.command in POLICY_COMMANDS:
            # Absolute, so the UI's processes (started in another folder) read the same policy folder.
            folder = resources.check_config()
            if os.environ.get(resources.CONFIG_ENV):
                os.environ[resources.CONFIG_ENV] = str(folder)
        return args.func(args)
    except settings.MissingSecretError as e:
        print(f"zs-risk: {e}", file=sys.stderr)
        return 2
    except NoLandingData as e:
        print(f"zs-risk: {e}", file=sys.stderr)
        return 1
    except (UsageError, resources.ConfigError) as e:
        print(f"zs-risk: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
