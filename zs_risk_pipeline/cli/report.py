"""What a home holds (运行摘要): `zs-risk summary` and the demo's closing report."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from zs_risk_pipeline.lib.core import settings
from zs_risk_pipeline.lib.monitoring import report
from zs_risk_pipeline.lib.publish import tables

if TYPE_CHECKING:  # imported lazily at run time: `zs-risk --help` should not wait for Dagster
    pass
from zs_risk_pipeline.cli import common


def print_summary(paths: settings.Paths) -> None:
    import duckdb

    from zs_risk_pipeline.lib.core.sql import SQL_DIR, run_sql

    common._say("\n== results")
    common._say(f"warehouse (DuckDB, pipeline-owned): {paths.warehouse}")
    if paths.warehouse.exists():
        with duckdb.connect(str(paths.warehouse), read_only=True) as conn:
            for source, files, raw, staged, quarantined, rejected in run_sql(conn, "staging/ingest_summary.sql"):
                common._say(
                    f"  {source:<16} {files:>4} files  {raw:>10,} raw = {staged:>10,} staged + "
                    f"{quarantined:>7,} quarantined   {rejected} files rejected"
                )
            reasons = run_sql(conn, "staging/quarantine.rows.sql#reasons")
            if reasons:
                common._say("  quarantine by reason: " + ", ".join(f"{r} {n:,}" for r, n in reasons))
        with duckdb.connect(str(paths.warehouse), read_only=True) as conn:
            published = (
                run_sql(conn, "ops/audit.publish_log.sql#published_summary") if common._has_publish_log(conn) else []
            )
        if published:
            common._say(f"mart for analysts (open read-only with any DuckDB client): {paths.mart / tables.MART_FILE}")
            session = SQL_DIR / "marts" / "analyst_session.sql"
            common._say(
                f"  locked: cd {paths.mart} && duckdb -readonly -init {session} -cmd .safe_mode {tables.MART_FILE}"
            )
            for table, months, first, last, rows, republished in published:
                again = f"; {republished} re-published as a new version (earlier kept)" if republished else ""
                common._say(
                    f"  {table:<22} {months:>3} months ({first} … {last}), {rows:,} rows in the latest month{again}"
                )
            with duckdb.connect(str(paths.warehouse), read_only=True) as conn:
                notes = run_sql(conn, "ops/audit.publish_log.sql#notes")
            for table, month, version, changed, release in notes:
                if changed:
                    common._say(f"  {table} {month} v{version}: policy changed ({changed})")
                if release:
                    common._say(f"  {table} {month} v{version}: released with missing sources ({release})")
    if paths.warehouse.exists():
        print_model_and_tiers(paths)
        print_effectiveness(paths)
        print_warnings_and_monitoring(paths)
    common._say(f"landing files: {paths.landing}")
    common._say(f"ground truth of the synthetic city (never read by the pipeline): {paths.ground_truth}")
    common._say(f"open the Dagster UI on this home with:  {common._ui_hint(paths)}   (then http://127.0.0.1:3000)")


def print_model_and_tiers(paths: settings.Paths) -> None:
    """The model decisions of the registry (with the synthetic city's oracle beside each trained model's holdout
    AUC, and the metric that decided with the three scorers' values), the tier mix of every month and the
    problem-found rate by tier."""
    import duckdb

    from zs_risk_pipeline.lib.core.sql import run_sql, table_exists
    from zs_risk_pipeline.lib.model.registry import Registry
    from zs_risk_synth import oracle

    decisions = Registry(paths.models).decisions()
    truth = oracle.load_truth(paths.ground_truth)
    with duckdb.connect(str(paths.warehouse), read_only=True) as conn:
        if decisions:
            common._say(f"risk model registry: {paths.models}")
        for d in decisions:
            serving = d.get("champion_after") or "scorecard (cold start)"
            trained = f", challenger {d['trained']}" if d.get("trained") else ""
            hold = (d.get("holdout") or {}).get("challenger")
            auc = ""
            if hold and hold.get("auc") is not None:
                best = oracle.holdout_auc(conn, d["month"], truth) if truth is not None else None
                auc = f", holdout AUC {hold['auc']:.3f}" + (f" (oracle {best:.3f})" if best is not None else "")
            common._say(
                f"  {d['month']}: {d['status']:<13} {d.get('labels', 0):>6,} labels{trained}{auc}; serving {serving}"
            )
            if d.get("verdict"):
                common._say(f"      {d['verdict']}")
            if d["status"] == "kept_champion":
                common._say("      not promoted: " + "; ".join(d["reasons"]))
        if not table_exists(conn, "tiers", "enterprise_monthly"):
            return
        common._say(
            "tier mix by month (internal reference data, never public; 分类结果仅供内部参考), scorer, policy version:"
        )
        previous = None
        for month, version, policy_version, n, a, b, c, d in run_sql(
            conn, "intermediate/tiers.enterprise_monthly.sql#mix_by_month"
        ):
            changed = "  (policy changed)" if previous is not None and policy_version != previous else ""
            previous = policy_version
            common._say(
                f"  {month}: {n:>8,} enterprises  A {a:6.1%}  B {b:6.1%}  C {c:6.1%}  D {d:6.1%}   {version}  "
                f"policy {policy_version}{changed}"
            )
        rates = run_sql(conn, "intermediate/tiers.enterprise_monthly.sql#outcomes_by_tier")
        drafted = (
            run_sql(conn, "intermediate/sampling.plan.sql#summary") if table_exists(conn, "sampling", "plan") else []
        )
    if rates:
        common._say("problem-found rate of the next month's random inspections by tier (weighted 1/π):")
        for tier, inspections, found, rate in rates:
            common._say(f"  {tier}: {rate:6.1%}  ({found:,} problems in {inspections:,} inspections)")
    if drafted:
        common._say(
            f"double-random plans drafted (packages: {paths.plans}; task lists per branch, no tiers: "
            f"{paths.exports / 'task_lists'}):"
        )
        for month, n_plans, tasks, staffed in drafted:
            common._say(f"  {month}: {n_plans} plans, {tasks:,} tasks, {staffed:,} with an inspector pair")


def print_effectiveness(paths: settings.Paths) -> None:
    """Per inspection month: what the inspections found, by tier, against the city rate (监管效能); and the latest
    proposal of ratios under capacity."""
    import duckdb

    from zs_risk_pipeline.lib.effectiveness import inspection_effectiveness
    from zs_risk_pipeline.lib.sampling import proposals

    with duckdb.connect(str(paths.warehouse), read_only=True) as conn:
        lines = inspection_effectiveness.summary_lines(conn) + proposals.summary_lines(conn, paths.reports)
    for line in lines:
        common._say(line)


def print_warnings_and_monitoring(paths: settings.Paths) -> None:
    """The last tiered month's early warnings and model monitoring, and the latest one-public export."""
    import duckdb

    from zs_risk_pipeline.lib.core.sql import latest_month, table_exists
    from zs_risk_pipeline.lib.model.registry import Registry
    from zs_risk_pipeline.lib.monitoring import early_warnings
    from zs_risk_pipeline.lib.publicity import export

    with duckdb.connect(str(paths.warehouse), read_only=True) as conn:
        if not table_exists(conn, "tiers", "enterprise_monthly"):
            return
        last = latest_month(conn, "tiers.enterprise_monthly")
        if last is None:
            return
        month = last.isoformat()
        lines = [
            *early_warnings.summary_lines(conn, month),
            # a month whose model started serving in it is shown against the previous scorer's reference month
            *report.closing_lines(conn, month, registry=Registry(paths.models)),
            *export.summary_lines(paths, conn),
        ]
    for line in lines:
        common._say(line)


def cmd_summary(args: argparse.Namespace) -> int:
    print_summary(common._use_home(args.home))
    return 0
