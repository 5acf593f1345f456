"""`zs-risk run` and `backfill` (按月运行): months through Dagster in the home's instance, with progress and a tally."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from zs_risk_pipeline import progress
from zs_risk_pipeline.defs import kept_open, processes
from zs_risk_pipeline.lib.core import settings

if TYPE_CHECKING:  # imported lazily at run time: `zs-risk --help` should not wait for Dagster
    import dagster as dg
from zs_risk_pipeline.cli import common


def run_months(
    months: list[str],
    release_reason: str | None = None,
    session: progress.Session | None = None,
    after_month: Callable[[str], None] | None = None,
) -> bool:
    """Materialise the monthly chain for each month, in order, through the Dagster job the UI uses.

    `release_reason`: publish the months although expected sources are missing (recorded as a release).
    `session`: the console and log file shared with the caller's other runs (the demo's); by default the runs
    log to <home>/logs/run.log, and a range of months ends with its warnings tallied.
    `after_month`: called with each month once it is built, before the next (the demo's inspectorate)."""
    import dagster as dg

    from zs_risk_pipeline.lib.evidence import signing

    settings.pii_key()  # refuse before doing anything when a key is missing
    signing.signer_from_env()
    common._require_landing(settings.home())
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
                if after_month is not None:
                    after_month(month)
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
            common._say(line)
    if session.failed_runs:
        common._say(f"{session.failed_runs} run(s) failed; Dagster's full log of every run: {session.log.path}")
    session.close()


def _say_head(paths: settings.Paths) -> None:
    """The publish log's head after a run: kept outside the system, it lets anyone detect a truncated log."""
    import duckdb

    from zs_risk_pipeline.lib.core.sql import run_sql

    if not paths.warehouse.exists():
        return
    with duckdb.connect(str(paths.warehouse), read_only=True) as conn:
        tail = run_sql(conn, "ops/audit.publish_log.sql#tail") if common._has_publish_log(conn) else []
    if tail:
        common._say(
            f"    publish-log head: entry {tail[0][0]} {tail[0][1]} (keep it outside: zs-risk verify --head HASH)"
        )


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
        common._say(f"{label}: {dead.describe()}")
    run_id = str(uuid.uuid4())
    shown = session.progress(label)
    kept = kept_open.SqliteKeptOpen(instance)

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
                tags={**(tags or {}), **processes.process_tags()},
                run_id=run_id,
            )
        finally:  # in-process: nothing of the run runs any more, whatever ended it
            runs.release(instance, run_id, "The zs-risk process stopped executing it")
            session.finished(shown, result is not None and result.success)
    if watch.signal is not None:
        common._say(
            f"{label}: stopped by {signal.Signals(watch.signal).name}; run {run_id} ended, its pool slots freed"
        )
        raise SystemExit(128 + watch.signal)
    checks = result.get_asset_check_evaluations()
    failed = [c for c in checks if not c.passed]
    mats = result.get_asset_materialization_events()
    staged = sum(common._md_int(m, "staged_rows") for m in mats)
    quarantined = sum(common._md_int(m, "quarantined_rows") for m in mats)
    rejected = sum(common._md_int(m, "files_rejected") for m in mats)
    # A warning (WARN severity) never blocks: counted on the run's line, named on the next one for a single run,
    # and tallied with the others of a sequence of runs for its end.
    warned = [
        f"{c.asset_key.to_user_string()}:{c.check_name}" for c in failed if c.severity == dg.AssetCheckSeverity.WARN
    ]
    status = "ok" if result.success else "FAILED"
    common._say(
        f"{label}: {status}, {len(mats)} assets, "
        f"{len(checks) - len(failed)}/{len(checks)} checks passed"
        + (f" ({len(warned)} warning{'s' * (len(warned) != 1)})" if warned else "")
        + f", {staged:,} rows staged, {quarantined:,} quarantined, {rejected} files rejected "
        f"({time.perf_counter() - t0:.1f} s)"
    )
    model = {m.asset_key.to_user_string(): m.materialization.metadata for m in mats}.get("model/risk_model")
    if model is not None:
        common._say(f"    model: {model['status'].value}, serving {model['champion_after'].value}")
        if "verdict" in model:
            common._say(f"      {model['verdict'].value}")
    session.tally.add(partition[:7], warned)
    if warned and session.warnings_per_run:
        common._say("    warnings (never block): " + ", ".join(w.rsplit(":", 1)[1] for w in warned))
    for c in failed:  # an error check blocks what follows it
        if c.severity == dg.AssetCheckSeverity.WARN:
            continue
        common._say(
            f"    check not passed, what depends on it was not built: {c.asset_key.to_user_string()}:{c.check_name}"
        )
        if c.check_name == "expected_sources_delivered":
            for line in c.metadata["missing_sources"].value:
                common._say(f"      missing: {line}")
            common._say(
                "      the month is not published and drafts no plans; once the sources are delivered, rerun it, "
                'or release it: zs-risk run --month YYYY-MM --release-missing "reason"'
            )
    for c in checks:
        if c.check_name == "expected_sources_delivered" and c.passed and c.metadata["released"].value:
            common._say(f"    released despite missing sources: {c.metadata['release_reason'].value}")
    for ev in result.get_step_failure_events():
        error = ev.event_specific_data.error
        first = (error.message.strip().splitlines() or [error.cls_name or "error"])[0] if error else "failed"
        name = shown.step_names.get(ev.step_key, ev.step_key)
        common._say(f"    step failed: {name}: {first} (stack trace: {session.log.path})")
    if own:
        _end_session(session, tally=False)
    return result.success


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
        return run_sql(conn, sql_file, params) if common._has_publish_log(conn) else []


def cmd_run(args: argparse.Namespace) -> int:
    common._use_home(args.home)
    common._check_months([args.month])
    return 0 if run_months([args.month], args.release_missing) else 1


def cmd_backfill(args: argparse.Namespace) -> int:
    common._use_home(args.home)
    months = common._months(args.from_month, args.to_month)
    common._check_months(months)
    return 0 if run_months(months, args.release_missing) else 1
