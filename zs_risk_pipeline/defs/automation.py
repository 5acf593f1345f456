"""Automation (自动化): the monthly schedule and the inspection-results sensor, running when Dagster starts."""

import datetime as dt
import json
from zoneinfo import ZoneInfo

import dagster as dg

from zs_risk_pipeline.defs.jobs import monthly_chain, results_on_arrival
from zs_risk_pipeline.defs.partitions import is_valid_month
from zs_risk_pipeline.defs.resources import ZsRiskHome
from zs_risk_pipeline.lib.ingest import arrivals

TIERS = dg.AssetKey(["tiers", "enterprise_monthly"])


@dg.schedule(
    name="monthly_chain_schedule",
    job=monthly_chain,
    cron_schedule="0 6 2 * *",
    execution_timezone="Asia/Shanghai",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Builds the previous month on the 2nd at 06:00 Asia/Shanghai (每月2日6时构建上月).",
)
def monthly_chain_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest | dg.SkipReason:
    # The source systems deliver on the 1st: on the 2nd the month just ended is complete.
    month = arrivals.previous_month(context.scheduled_execution_time.date())
    if not is_valid_month(month):  # a home whose deliveries had stopped when the definitions were loaded
        return dg.SkipReason(f"{month[:7]} is not among the months offered: reload the definitions once delivered")
    return dg.RunRequest(run_key=f"schedule:{month}", partition_key=month)


@dg.sensor(
    name="inspection_results_sensor",
    jobs=[monthly_chain, results_on_arrival],
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "New or changed files under landing/inspections/, landing/conflicts/ (回避 declarations) and "
        "landing/inspectors/ (the inspector directory), <YYYY-MM>/, launch the monthly chain for that month (once "
        "it has ended) and for every later month already built; an inspections file of the running month launches "
        "results_on_arrival instead, which publishes its results the day they arrive. Run keys derive from the "
        "files' SHA-256, so a file never launches twice; the files present at the first tick are the baseline. "
        "抽查结果与回避、人员名录文件到达后重跑受影响的月份；当月抽查结果随到随公示。"
    ),
)
def inspection_results_sensor(context: dg.SensorEvaluationContext, zs_home: ZsRiskHome) -> dg.SensorResult:
    now = arrivals.scan_watched(zs_home.paths().landing)
    cursor = json.dumps(now, sort_keys=True)
    if context.cursor is None:
        # First tick (or a reset cursor): the files already there are the baseline, ingested by the monthly
        # chain; only deliveries from now on call for reruns (otherwise starting the UI reruns every month).
        n = sum(len(files) for files in now.values())
        return dg.SensorResult(skip_reason=dg.SkipReason(f"baseline of {n} landing files recorded"), cursor=cursor)
    new = arrivals.new_files(arrivals.read_cursor(context.cursor), now)
    # Files of a month the loaded definitions do not offer yet stay out of the cursor: they launch their runs
    # after the definitions are reloaded instead of failing the tick now, or being forgotten.
    later = [f for f in new if not is_valid_month(f"{f[1][:7]}-01")]
    if later:
        for source, name, _ in later:
            now[source].pop(name, None)
        cursor = json.dumps(now, sort_keys=True)
        new = [f for f in new if f not in later]
        months = sorted({name[:7] for _, name, _ in later})
        context.log.warning(
            f"{len(later)} new files of {', '.join(months)}, not among the months offered: reload the definitions"
        )
        if not new:
            why = f"{len(later)} new files of {', '.join(months)} wait for the definitions to be reloaded"
            return dg.SensorResult(skip_reason=dg.SkipReason(why), cursor=cursor)
    if not new:
        return dg.SensorResult(skip_reason=dg.SkipReason("no new or changed files"), cursor=cursor)
    built = set(context.instance.get_materialized_partitions(TIERS)) if context.instance else set()
    today = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()
    requests = [
        dg.RunRequest(
            run_key=run.run_key,
            job_name=run.job,
            partition_key=run.partition,
            tags={
                "zs_risk/feedback_source": run.files[0][0],
                "zs_risk/feedback_file": run.files[0][1],
                "zs_risk/feedback_sha256": run.files[0][2],
                "zs_risk/feedback_files": str(len(run.files)),
            },
        )
        for run in arrivals.plan_runs(new, built, today)
    ]
    if not requests:  # e.g. a conflicts file of the running month: the schedule builds the month when it ends
        why = f"{len(new)} new or changed files, all of the running month: left to the monthly schedule"
        return dg.SensorResult(skip_reason=dg.SkipReason(why), cursor=cursor)
    return dg.SensorResult(run_requests=requests, cursor=cursor)
