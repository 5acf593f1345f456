"""Automation (自动化): the monthly schedule and the inspection-results sensor, running when Dagster starts."""

import datetime as dt
import json
from zoneinfo import ZoneInfo

import dagster as dg

from zs_risk_pipeline.defs.jobs import monthly_chain
from zs_risk_pipeline.defs.resources import ZsRiskHome
from zs_risk_pipeline.lib import feedback

TIERS = dg.AssetKey(["tiers", "enterprise_monthly"])


@dg.schedule(
    name="monthly_chain_schedule",
    job=monthly_chain,
    cron_schedule="0 6 2 * *",
    execution_timezone="Asia/Shanghai",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Builds the previous month on the 2nd at 06:00 Asia/Shanghai (每月2日6时构建上月).",
)
def monthly_chain_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    # The source systems deliver on the 1st: on the 2nd the month just ended is complete.
    month = feedback.previous_month(context.scheduled_execution_time.date())
    return dg.RunRequest(run_key=f"schedule:{month}", partition_key=month)


@dg.sensor(
    name="inspection_results_sensor",
    job=monthly_chain,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "New or changed files under landing/inspections/<YYYY-MM>/ launch the monthly chain for that month (once "
        "it has ended) and for every later month already built; run keys carry the file's SHA-256, so a file "
        "never launches twice; the files present at the first tick are the baseline. "
        "抽查结果文件到达后重跑受影响的月份。"
    ),
)
def inspection_results_sensor(context: dg.SensorEvaluationContext, zs_home: ZsRiskHome) -> dg.SensorResult:
    now = feedback.scan(zs_home.paths().landing)
    if context.cursor is None:
        # First tick (or a reset cursor): the files already there are the baseline, ingested by the monthly
        # chain; only deliveries from now on call for reruns (otherwise starting the UI reruns every month).
        return dg.SensorResult(
            skip_reason=dg.SkipReason(f"baseline of {len(now)} inspection-result files recorded"),
            cursor=json.dumps(now, sort_keys=True),
        )
    new = feedback.changes(json.loads(context.cursor), now)
    if not new:
        return dg.SensorResult(skip_reason=dg.SkipReason("no new or changed inspection-result files"))
    built = set(context.instance.get_materialized_partitions(TIERS)) if context.instance else set()
    today = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()
    requests = [
        dg.RunRequest(
            run_key=f"{name}:{sha[:16]}:{month}",
            partition_key=month,
            tags={"zs_risk/feedback_file": name, "zs_risk/feedback_sha256": sha},
        )
        for name, sha in new
        for month in feedback.months_to_rerun(name[:7], built, today)
    ]
    # One run per month even when several files of the same delivery arrive in one tick.
    unique = list({r.partition_key: r for r in requests}.values())
    return dg.SensorResult(run_requests=unique, cursor=json.dumps(now, sort_keys=True))
