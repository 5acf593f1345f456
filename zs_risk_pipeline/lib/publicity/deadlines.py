"""Publication deadlines (公示时限): when each result arrived and the working day it must be public by.

Plain Python, no Dagster.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pandas as pd

from zs_risk_pipeline.lib.core import workdays
from zs_risk_pipeline.lib.core.month import Month
from zs_risk_pipeline.lib.core.sql import render, run_sql, table_exists
from zs_risk_pipeline.lib.publicity import export_rules


def _days(series: pd.Series) -> np.ndarray:
    return pd.to_datetime(series).to_numpy().astype("datetime64[D]")


def results_of_month(conn: duckdb.DuckDBPyConnection, month: str, config: export_rules.PublicityConfig) -> pd.DataFrame:
    """The results delivered in month M as the public sees them, with the day each arrived and its landing file."""
    codes = sorted(config.departments)
    staged = {t: table_exists(conn, "staging", t) for t in export_rules.SOURCES}
    if not all(staged.values()):
        run_sql(conn, "marts/publicity_results_of_month.sql#stand_ins")
    schemas = {f"{t}_schema": "staging" if ok else "temp" for t, ok in staged.items()}
    return conn.execute(
        render("marts/publicity_results_of_month.sql", schemas),
        {
            "month": Month.of(month).start,
            "month_end": Month.of(month).end,
            "dept_codes": codes,
            "dept_names": [config.departments[c] for c in codes],
        },
    ).df()


def with_deadlines(rows: pd.DataFrame, published: np.ndarray, config: export_rules.PublicityConfig) -> pd.DataFrame:
    """The rows with deadline, publication date, late flag, working days taken and calendar basis."""
    calendar = config.calendar
    rows = rows.copy()
    # The result is formed on the inspection day: the delivery carries no earlier date for it.
    formed = _days(rows["inspected_on"])
    pub = np.asarray(published, dtype="datetime64[D]")
    due = workdays.add_workdays(formed, config.deadline_working_days, calendar)
    # The row's basis is the weakest calendar any of its dates used: deadline, publication and the count between.
    basis = workdays.basis_between(formed + 1, np.maximum(due.dates, pub), calendar)
    rows["inspected_on"] = formed.astype(object)
    rows["deadline"] = due.dates.astype(object)
    rows["published_on"] = pub.astype(object)
    rows["late"] = pub > due.dates
    rows["working_days_taken"] = workdays.workdays_after_until(formed, pub, calendar).astype("int32")
    rows["deadline_basis"] = basis
    return rows


def arrival_days(rows: pd.DataFrame, today: dt.date) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the day it reached zs-risk: its recorded_on (录入日期), else the day its file was ingested in
    Asia/Shanghai, else `today` (no ingestion on record); and whether recorded_on was missing."""
    recorded = _days(rows["recorded_on"])
    missing = np.isnat(recorded)
    ingested = pd.to_datetime(rows["ingested_at"]) + export_rules.SHANGHAI  # ingested_at is stored in UTC
    fallback = ingested.to_numpy().astype("datetime64[D]")
    fallback = np.where(np.isnat(fallback), np.datetime64(today, "D"), fallback)
    return np.where(missing, fallback, recorded), missing


def publication_day(arrived: dt.date | np.datetime64, config: export_rules.PublicityConfig) -> tuple[dt.date, str]:
    """The publication date (公示日期) of a batch that arrived on `arrived`: the first working day after it."""
    nxt = workdays.add_workdays(np.datetime64(arrived, "D"), 1, config.calendar)
    return nxt.dates[0].astype(dt.date), str(nxt.basis[0])
