"""Monthly sampling frames (抽查对象名录): which enterprises each active plan draws from, and at what rate.

Plain Python, no Dagster.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import json
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from zs_risk_pipeline.lib.core.db import transaction
from zs_risk_pipeline.lib.core.month import Month
from zs_risk_pipeline.lib.core.sql import drop, run_sql, table_exists
from zs_risk_pipeline.lib.policy import versions
from zs_risk_pipeline.lib.policy.folder import Policy
from zs_risk_pipeline.lib.sampling import plan_policy, protocol


def _tier_month(month: str | dt.date) -> dt.date:
    if isinstance(month, dt.date):
        if month.day != 1:
            raise ValueError(f"month must be the first day of a month, got {month}")
        return month
    if not Month.is_label_or_key(month):
        raise ValueError(f"month must be 'YYYY-MM' or 'YYYY-MM-01', got {month!r}")
    return Month.of(month).start


def plan_month(month: str | dt.date) -> dt.date:
    """The month M+1 in which the plan drawn from the tiers of month M is carried out (its first day)."""
    return Month.of(_tier_month(month)).next().start


def plan_id(plan: plan_policy.SamplingPlan, month: str | dt.date) -> str:
    """The plan_id of the plan drawn from the tiers of month M: "<prefix>-<YYYY-MM of M+1>"."""
    return f"{plan.id}-{plan_month(month):%Y-%m}"


def plans_active(plans: Sequence[plan_policy.SamplingPlan], month: str | dt.date) -> list[plan_policy.SamplingPlan]:
    """The plans that draw from the tiers of month M (their months include the calendar month of M+1)."""
    calendar_month = plan_month(month).month
    return [p for p in plans if calendar_month in p.months]


def _decimal_text(value: Decimal) -> str:
    """Plain decimal notation without trailing zeros ("0.05", "1", "0"), as draw.parse_rate accepts."""
    text = format(value.normalize(), "f")
    return "0" if Decimal(text) == 0 else text


def per_draw_rate(plan: plan_policy.SamplingPlan, tier: str, month: str | dt.date) -> str:
    """The rate of `tier` in the plan drawn from the tiers of month M, as a decimal string ("0" = not drawn).

    An enterprise drawn once is out of the plan's frame for the rest of the calendar year, so batch i of the
    tier's k months draws ratio / (k − (i − 1) × ratio) of the frame left by the i − 1 batches before it: over
    the year that is the annual ratio of a steady population ("0.20" over 4 batches: 0.05 of the full frame,
    then 0.05 / 0.95 of the rest, ...). Splitting the ratio evenly (ratio / k every batch) would fall short,
    badly so for key items: "1" over 4 batches would reach 68 %, not 100 %. Computed in exact decimal
    arithmetic, then rounded up to RATE_PLACES decimals so a batch never draws less than its quota.
    """
    if tier not in plan_policy.TIERS:
        raise ValueError(f"tier {tier!r} not in {list(plan_policy.TIERS)}")
    rule = plan.tiers.get(tier)
    calendar_month = plan_month(month).month
    if rule is None or calendar_month not in rule.months:
        return "0"
    batches = len(rule.months)
    before = rule.months.index(calendar_month)  # batches of this tier earlier in the calendar year
    ratio = Decimal(rule.ratio)
    with decimal.localcontext() as ctx:
        ctx.prec = 40
        rate = ratio / (batches - before * ratio)  # denominator ≥ 1: before ≤ batches − 1 and ratio ≤ 1
        rate = rate.quantize(Decimal(1).scaleb(-plan_policy.RATE_PLACES), rounding=decimal.ROUND_CEILING)
    return _decimal_text(min(rate, Decimal(1)))


def frame_rates(plan: plan_policy.SamplingPlan, month: str | dt.date) -> dict[str, str]:
    """Per-draw rate of every stratum (tier) the plan draws in the month; tiers not drawn are left out."""
    rates = {t: per_draw_rate(plan, t, month) for t in plan_policy.TIERS}
    return {t: r for t, r in rates.items() if Decimal(r) > 0}


def _prior_plans_view(conn: duckdb.DuckDBPyConnection) -> None:
    """_sampling_prior(plan_id, uscc): the enterprises of our own earlier draws, once sampling.plan exists."""
    exists = table_exists(conn, "sampling", "plan")
    if not exists:
        run_sql(conn, "intermediate/sampling.frame.sql#no_prior_plans")
        return
    columns = {r[0] for r in run_sql(conn, "ops/catalog.sql#columns", {"schema": "sampling", "table": "plan"})}
    if not {"plan_id", "uscc"} <= columns:
        # Never silently skip it: without it an enterprise could be drawn twice for a plan in one year.
        raise RuntimeError(f"sampling.plan lacks plan_id or uscc (has {sorted(columns)}): cannot exclude earlier draws")
    run_sql(conn, "intermediate/sampling.frame.sql#prior_plans")


def frame_params(plan: plan_policy.SamplingPlan, month: str | dt.date) -> dict[str, Any]:
    """Named parameters of sql/intermediate/sampling.frame.sql#candidates for the plan and tier month M."""
    m = _tier_month(month)
    pm = plan_month(m)
    return {
        "month": m,
        "month_end": Month.of(m.isoformat()).end,
        "tiers": list(frame_rates(plan, m)),
        "industries": list(plan.scope.industries),
        "licence_domains": list(plan.scope.licence_domains),
        "towns": list(plan.scope.towns),
        "year_prefix": f"{plan.id}-{pm.year:04d}-",
        "plan_month_no": pm.month,
    }


def _published_frame(
    conn: duckdb.DuckDBPyConnection, folder: Path, m: dt.date
) -> tuple[dict[str, dict[str, Any]], str | None]:
    """_sampling_frame_rows from a published plan's package; its strata (N, rate, n) and the policy version it
    was drawn under from plan.json."""
    doc = json.loads((folder / protocol.PLAN_FILE).read_text(encoding="utf-8"))
    with (folder / protocol.FRAME_FILE).open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    package = pd.DataFrame(rows[1:], columns=rows[0], dtype=object)
    conn.register("_frame_package", package)
    try:
        run_sql(
            conn, "intermediate/sampling.frame.sql#published", {"month": m, "month_end": Month.of(m.isoformat()).end}
        )
    finally:
        conn.unregister("_frame_package")
    return doc["strata"], doc.get("policy_version")


def build_frames(
    conn: duckdb.DuckDBPyConnection,
    plans: Sequence[plan_policy.SamplingPlan],
    month: str | dt.date,
    packages_dir: Path | None = None,
    policy: Policy | None = None,
) -> dict[str, int]:
    """Write the frames of `plans` for tier month M (inspections in M+1) to sampling.frame; rows per plan id.

    Eligible for a plan: tiered in month M (tiers.enterprise_monthly), 存续/在业 in the registry version known
    at the end of M, in the plan's scope, in a tier the plan draws this month (A-tier left out under 无事不扰),
    and not drawn for the same plan prefix earlier in the calendar year of M+1 (staging.inspections delivered
    by M, and sampling.plan once it exists). N_h per stratum gives n_h by draw.stratum_sizes and π = n_h / N_h.
    A plan already published in `packages_dir` keeps the frame it was drawn from (its package's frame.csv and
    strata): a rerun never re-frames a published plan from later information. The month's base population is
    computed once for all plans. Each plan's rows of the month are deleted and inserted, all plans in one
    transaction: a rerun gives the same rows. A plan that does not draw this month gets an empty frame (0 rows).
    The rows record the policy version of `policy` (default: the policy folder in use).
    """
    ids = [p.id for p in plans]
    if len(set(ids)) != len(ids):
        raise ValueError(f"plans must be distinct, got {ids}")
    m = _tier_month(month)
    run_sql(conn, "intermediate/sampling.frame.sql")
    _prior_plans_view(conn)
    version = versions.current("sampling", policy).version
    written: dict[str, int] = {}
    try:
        run_sql(conn, "intermediate/sampling.frame.sql#base", {"month": m, "month_end": Month.of(m).end})
        with transaction(conn):
            for plan in plans:
                pid = plan_id(plan, m)
                folder = Path(packages_dir) / pid if packages_dir is not None else None
                drawn_under = version
                if folder is not None and (folder / protocol.PLAN_FILE).is_file():
                    published, drawn_under = _published_frame(conn, folder, m)
                    strata = sorted(published)
                    rates = {s: published[s]["rate"] for s in strata}
                    counts = {s: int(published[s]["N"]) for s in strata}
                    sizes = {s: int(published[s]["n"]) for s in strata}
                else:
                    rates = frame_rates(plan, m)
                    run_sql(conn, "intermediate/sampling.frame.sql#candidates", frame_params(plan, m))
                    counts = {str(s): int(n) for s, n in run_sql(conn, "intermediate/sampling.frame.sql#strata")}
                    sizes = protocol.stratum_sizes(counts, rates)
                strata = [s for s in sorted(rates) if counts.get(s, 0) > 0]
                params = {
                    "month": m,
                    "plan_id": pid,
                    "strata": strata,
                    "rates": [rates[s] for s in strata],
                    "frame_sizes": [counts[s] for s in strata],
                    "sample_sizes": [sizes[s] for s in strata],
                    "policy_version": drawn_under,
                }
                written[plan.id] = int(run_sql(conn, "intermediate/sampling.frame.sql#replace_plan", params)[0][0])
    finally:
        # The temporary tables of the month's frames and the view of earlier draws, once written (or after a failure).
        drop(conn, "temp._sampling_frame_rows", "temp._sampling_base")
        drop(conn, "temp._sampling_prior", kind="VIEW")
    return written


def build_frame(
    conn: duckdb.DuckDBPyConnection,
    plan: plan_policy.SamplingPlan,
    month: str | dt.date,
    packages_dir: Path | None = None,
    policy: Policy | None = None,
) -> int:
    """Write one plan's frame for tier month M to sampling.frame (see build_frames); rows written."""
    return build_frames(conn, [plan], month, packages_dir, policy)[plan.id]
