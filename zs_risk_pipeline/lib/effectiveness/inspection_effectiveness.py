"""Effectiveness of the month's inspections (监管效能), as a bureau computes it without the hidden truth.

For inspection month M, from what is known at M's end (inspections dated in M and delivered by then, the plans
source, the tiers of M-1 that drew M's plans), effectiveness.inspection_effectiveness holds one row per cut
(sql/intermediate/effectiveness.inspection_effectiveness.sql):

- `all`, `trigger`, `plan`, `department`, `tier`: inspections, problems found and problems per 100 inspections;
  each cut adds up to the month's inspections (no plan, an unknown department, an enterprise not tiered in M-1
  are keys of their own). The tier is the one the enterprise held when its plan was drawn: the stratum of a
  tier-stratified plan, else its tier of M-1. A plan is grouped by its id without the stratum: zs-risk's own
  plans deliver one plans row per tier (`MR-GENERAL-2024-12/D`), a uniform draw one row per plan.
- `random_tier`: the same by tier for the random (双随机) inspections only, what the tiers are judged by;
  `targeted`: the random inspections of the tier-stratified plans pooled (zs-risk's targeted plans).
- `city`: the problem rate of a randomly chosen enterprise of the city, estimated from the city-wide plans'
  random inspections with 1/π (Hájek, strata = plans rows, Korn–Graubard 95 % interval; lib/effectiveness/
  estimates.py). City-wide are the plans of config/sampling_plans.yaml with `publicity: true` (企业公示信息抽查):
  the legal floor gives them the whole directory as frame (every enterprise in scope, every tier ≥ 3 %), and the
  synthetic city's uniform MR-GENERAL draws from every operating entity alike. Their frame is the directory less
  the firms the plan already drew this year (a plan draws a firm once a year): late in a year it leaves out few
  firms of a uniform 3 % draw, but most of a tier drawn at a high ratio (D at 90 %), and the frame's rate then
  falls below the city's. The estimate is therefore post-stratified by tier to the enterprises tiered in M-1
  (each tier's Hájek rate weighted by its share of the city), and falls back to the frame's rate, saying why in
  the row's note, when a tier has no city-wide inspection or an inspected firm no tier (the generator's uniform
  plans before go-live also draw individual businesses). No city-wide random inspection in M: no rate, and the row
  says why.
- every row's `lift` = its hit rate ÷ the city rate: n uniform random inspections would find n × the city rate,
  so at equal budget the row found `lift` times as many problems. A scoped plan's lift mixes its targeting with
  its scope's own rate; the tier-stratified plans' pooled lift (`targeted`) measures zs-risk's targeting.
- the `all` row's `share_reached`: the distinct firms found with a problem over the estimated problem firms of
  the population the rate stands for (rate × its size), at most 1.

Plain Python, no Dagster.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from zs_risk_pipeline.lib.core.db import transaction
from zs_risk_pipeline.lib.core.month import Month
from zs_risk_pipeline.lib.core.sql import comment_on, drop, run_sql, table_exists
from zs_risk_pipeline.lib.effectiveness import estimates
from zs_risk_pipeline.lib.policy import folder, versions
from zs_risk_pipeline.lib.policy.sampling_plans import SamplingPlan
from zs_risk_pipeline.lib.publish import catalog

SCHEMA, NAME = "effectiveness", "inspection_effectiveness"  # published as the mart view of the same name
TABLE = f"{SCHEMA}.{NAME}"
CUTS = ("all", "trigger", "plan", "department", "tier", "random_tier", "targeted", "city")
TIERS = ("A", "B", "C", "D")
CONFIDENCE = 0.95
POST_STRATIFIED = "post-stratified to the enterprises tiered in the month before, by tier"
_COUNTS = ("cut", "key", "plan_name", "targeted", "inspections", "problems_found", "firms_found")


def city_wide_plans(plans: Sequence[SamplingPlan]) -> list[str]:
    """The plan ids (prefixes) whose frame is the whole directory: the publicity-information plans."""
    return [p.id for p in plans if p.publicity]


def ensure_table(conn: duckdb.DuckDBPyConnection) -> None:
    """The table, its columns described as the mart describes them (reference/mart_columns.csv): one text for the
    warehouse, the asset's column schema and the mart view."""
    run_sql(conn, "intermediate/effectiveness.inspection_effectiveness.sql")
    for column, *_ in run_sql(conn, "ops/catalog.sql#columns", {"schema": SCHEMA, "table": NAME}):
        text = catalog.column_comment(NAME, column)
        if text is not None:
            comment_on(conn, "COLUMN", f"{TABLE}.{column}", text)


def _params(month: str) -> dict:
    m = Month.of(month)
    return {"month": m.start, "month_end": m.end, "prev_month": m.previous().start}


def city_estimate(
    sample: list[tuple], city_wide: Sequence[str], month: str, tiers: dict[str, int] | None = None
) -> tuple[estimates.RateEstimate | None, int | None, str | None]:
    """The city rate from the rows of #city_sample (found, π, stratum, frame size, tier): post-stratified to the
    city's enterprises by tier (`tiers`, from #city_tiers) when every tier of the city has a city-wide inspection
    and every inspected firm a tier, else the Hájek rate of the frame. Returns the estimate, the population it
    stands for, and a note: why there is no estimate, or how it was made."""
    if not city_wide:
        return None, None, "no plan of config/sampling_plans.yaml is a publicity-information (city-wide) plan"
    if not sample:
        return (
            None,
            None,
            f"no random inspection of a city-wide plan ({', '.join(city_wide)}) dated in {Month.of(month)} was "
            "delivered by its end: the city rate is not estimated",
        )
    found, pi, stratum, population, tier = (np.asarray(column) for column in zip(*sample, strict=True))
    if tiers:
        post = estimates.post_stratified_rate(found, pi, stratum, tier, tiers, CONFIDENCE)
        if post is not None:
            return post, int(post.population), POST_STRATIFIED
        unseen = sorted(t for t, n in tiers.items() if n > 0 and t not in set(tier.astype(str)))
        reason = (
            f"no city-wide inspection of tier {', '.join(unseen)}"
            if unseen
            else "inspected firms without a tier in the month before"
        )
        basis = f"the rate of the city-wide plans' frame, not post-stratified by tier ({reason})"
    else:
        basis = "the rate of the city-wide plans' frame (no tiers of the month before to post-stratify to)"
    return estimates.hajek_rate(found, pi, stratum, CONFIDENCE), int(population.max()), basis


def _note(cut: str, inspections: int, lift: float, why: str | None, city: estimates.RateEstimate | None) -> str | None:
    """Why a measure of the row is empty: the city row without an estimate says why; another row without
    inspections says so; one without a lift says that the city rate is missing or estimated 0."""
    if cut == "city" and why:
        return why
    if inspections == 0:
        return "no inspection"
    if math.isnan(lift):
        return why or ("the city rate is estimated 0: no lift" if city is not None and city.rate == 0 else None)
    return None


def measures(
    counts: pd.DataFrame, city: estimates.RateEstimate | None, population: int | None, why: str | None
) -> pd.DataFrame:
    """The table's rows from the cuts' counts and the city estimate: per 100 and the lift with its bounds on every
    row (one row per cut and key: a few dozen), the estimate on the city row, the share reached on the all row, and
    a note where a measure is empty. An unbounded lift (the city rate's lower bound 0) is left empty."""
    rows = counts.copy()
    n, found = rows["inspections"].to_numpy(), rows["problems_found"].to_numpy()
    rows["per_100"] = np.divide(100.0 * found, n, out=np.full(len(rows), np.nan), where=n > 0)
    lifts = np.array(
        [
            estimates.lift(p / 100, city) if city is not None and city.rate > 0 and k > 0 else (math.nan,) * 3
            for p, k in zip(rows["per_100"], n, strict=True)
        ],
        dtype="float64",
    ).reshape(-1, 3)
    lifts[~np.isfinite(lifts)] = np.nan
    rows["lift"], rows["lift_low"], rows["lift_high"] = lifts.T
    is_city, is_all = (rows["cut"] == "city").to_numpy(), (rows["cut"] == "all").to_numpy()
    estimate = (math.nan,) * 4 if city is None else (city.rate, city.se, city.low, city.high)
    for column, value in zip(("rate", "rate_se", "rate_low", "rate_high"), estimate, strict=True):
        rows[column] = np.where(is_city, value, np.nan)
    sizes = (population, None, None) if city is None else (population, city.strata, city.single_draw_strata)
    for column, size in zip(("population", "strata", "single_draw_strata"), sizes, strict=True):
        rows[column] = pd.array(np.where(is_city, size, None), dtype="Int64")
    share = (math.nan,) * 3
    if city is not None and population:
        share = estimates.share_reached(int(rows.loc[is_all, "firms_found"].iloc[0]), city, population)
    for column, value in zip(("share_reached", "share_reached_low", "share_reached_high"), share, strict=True):
        rows[column] = np.where(is_all, value, np.nan)
    missing = why if city is None else None  # else `why` says how the city rate was estimated
    rows["note"] = [
        _note(cut, k, lift, missing, city) for cut, k, lift in zip(rows["cut"], n, rows["lift"], strict=True)
    ]
    if city is not None:
        said = rows.loc[is_city, "note"].iloc[0]
        rows.loc[is_city, "note"] = "; ".join(x for x in (why, said) if x)
    return rows


def _city_tiers(conn: duckdb.DuckDBPyConnection, month: str) -> dict[str, int]:
    rows = run_sql(conn, "intermediate/effectiveness.inspection_effectiveness.sql#city_tiers", _params(month))
    return {str(t): int(n) for t, n in rows}


def build_inspection_effectiveness(
    conn: duckdb.DuckDBPyConnection, month: str, policy: folder.Policy | None = None
) -> pd.DataFrame:
    """Compute inspection month M's rows and replace the month in effectiveness.inspection_effectiveness in one
    transaction; the rows record the policy version of `policy` (default: the folder in use). Returns the rows."""
    policy = policy or folder.current()
    city_wide = city_wide_plans(policy.sampling_plans)
    try:
        run_sql(
            conn,
            "intermediate/effectiveness.inspection_effectiveness.sql#inspections",
            {**_params(month), "city_wide": city_wide},
        )
        counts = pd.DataFrame(
            run_sql(conn, "intermediate/effectiveness.inspection_effectiveness.sql#cuts", {"cuts": list(CUTS)}),
            columns=list(_COUNTS),
        )
        city, population, why = city_estimate(
            run_sql(conn, "intermediate/effectiveness.inspection_effectiveness.sql#city_sample"),
            city_wide,
            month,
            _city_tiers(conn, month),
        )
        rows = measures(counts, city, population, why)
        version = versions.current("effectiveness", policy).version
        with transaction(conn, registered={"_eff_rows": rows}):
            ensure_table(conn)
            run_sql(
                conn,
                "intermediate/effectiveness.inspection_effectiveness.sql#replace_month",
                {"month": Month.of(month).start, "cuts": list(CUTS), "policy_version": version},
            )
    finally:
        drop(conn, "temp._eff_inspections")
    return rows


@dataclass(frozen=True)
class Pooled:
    """zs-risk's tier-stratified plans over several inspection months: their random inspections, the problems
    they found, the city rate from the months' city-wide samples together, and the lift with its interval."""

    months: tuple[str, ...]
    inspections: int
    problems_found: int
    city: estimates.RateEstimate | None
    lift: tuple[float, float, float]

    @property
    def hit_rate(self) -> float:
        return self.problems_found / self.inspections if self.inspections else math.nan


def pooled(conn: duckdb.DuckDBPyConnection, months: Sequence[str], policy: folder.Policy | None = None) -> Pooled:
    """Pool inspection months (e.g. those whose plans a model drew): the targeted plans' counts summed, the city
    rate estimated once from every month's city-wide random inspections (Hájek, each month's plans rows its own
    strata, post-stratified to each month's enterprises by tier), lift = the pooled hit rate ÷ that rate. Reads
    the warehouse only (temp tables aside)."""
    policy = policy or folder.current()
    city_wide = city_wide_plans(policy.sampling_plans)
    n = found = 0
    sample: list[tuple] = []
    tiers: dict[str, int] = {}
    try:
        for month in months:
            params = {**_params(month), "city_wide": city_wide}
            run_sql(conn, "intermediate/effectiveness.inspection_effectiveness.sql#inspections", params)
            cuts = run_sql(conn, "intermediate/effectiveness.inspection_effectiveness.sql#cuts", {"cuts": list(CUTS)})
            targeted = [r for r in cuts if r[0] == "targeted"]
            n += sum(int(r[_COUNTS.index("inspections")]) for r in targeted)
            found += sum(int(r[_COUNTS.index("problems_found")]) for r in targeted)
            # Post-strata of the pooled estimate: each month's tiers, each standing for that month's enterprises.
            rows = run_sql(conn, "intermediate/effectiveness.inspection_effectiveness.sql#city_sample")
            sample += [(*r[:4], f"{month}/{r[4]}") for r in rows]
            tiers |= {f"{month}/{t}": size for t, size in _city_tiers(conn, month).items()}
    finally:
        drop(conn, "temp._eff_inspections")
    city = city_estimate(sample, city_wide, months[-1], tiers)[0] if months else None
    ok = city is not None and city.rate > 0 and n > 0
    lifted = estimates.lift(found / n, city) if ok else (math.nan,) * 3
    return Pooled(tuple(months), n, found, city, tuple(float(x) for x in lifted))


def well_formed_violations(conn: duckdb.DuckDBPyConnection, month: str) -> list[tuple[str, str | None, str]]:
    """(cut, key, problem) for every row of the month that breaks the table's contract
    (sql/checks/effectiveness.inspection_effectiveness.sql)."""
    rows = run_sql(conn, "checks/effectiveness.inspection_effectiveness.sql", {**_params(month), "cuts": list(CUTS)})
    return [(str(c), k, str(p)) for c, k, p in rows]


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def summary_lines(conn: duckdb.DuckDBPyConnection) -> list[str]:
    """Lines for the demo printout, one per inspection month built: inspections and problems found, problems per
    100 random inspections by tier, the city rate with its interval, the tier-stratified plans' lift and the share
    of problem firms reached. Aggregates only, no enterprise. Reads only."""
    if not table_exists(conn, SCHEMA, NAME):
        return []
    lines = [
        "effectiveness of the inspections (监管效能; internal): problems per 100, random inspections by tier of the "
        "month before; city rate from the city-wide random plans (1/π, 95 % interval); lift of the tier-stratified "
        "plans over it at equal budget; share of the estimated problem firms reached"
    ]
    for month, n, found, per_100, *by_tier, rate, low, high, lift, share in run_sql(
        conn, "intermediate/effectiveness.inspection_effectiveness.sql#summary"
    ):
        tiers = " ".join(f"{t} {'-' if v is None else f'{v:.1f}'}" for t, v in zip(TIERS, by_tier, strict=True))
        city = "n/a" if rate is None else f"{rate:.1%} [{low:.1%}, {high:.1%}]"
        lifted = "n/a" if lift is None else f"{lift:.2f}×"
        lines.append(
            f"  {month}: {n:>7,} inspections, {found:>6,} problems ({'-' if per_100 is None else f'{per_100:.1f}'} "
            f"per 100); by tier {tiers}; city {city}; lift {lifted}; reached {_pct(share)}"
        )
    served = [
        m for (m,) in run_sql(conn, "intermediate/effectiveness.inspection_effectiveness.sql#model_served_months")
    ]
    if served:
        p = pooled(conn, served)
        city = "n/a" if p.city is None else f"{p.city.rate:.1%} [{p.city.low:.1%}, {p.city.high:.1%}]"
        lines.append(
            f"  the months whose plans a trained model drew ({served[0]} … {served[-1]}), pooled: the tier-stratified "
            f"plans found {p.problems_found:,} problems in {p.inspections:,} random inspections ({p.hit_rate:.1%}); "
            f"city rate {city}; lift {p.lift[0]:.2f}× [{p.lift[1]:.2f}, {p.lift[2]:.2f}] at equal budget"
        )
    return lines
