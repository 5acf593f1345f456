"""Labels of the risk model (模型标签): random inspections known by the month's end, weighted by their plan.

Each label is a random inspection's outcome with the features of the month before it and the weight 1/π of
its plan's inclusion probability; windows split them by inspection month. Plain Python, no Dagster.
"""

from __future__ import annotations

from typing import Any

import duckdb
import numpy as np
import pandas as pd

from zs_risk_pipeline.lib.core.month import Month
from zs_risk_pipeline.lib.core.sql import load_sql, run_sql
from zs_risk_pipeline.lib.model import model_config


def label_params(month: str, config: model_config.ModelConfig) -> dict[str, Any]:
    return {
        "month": Month.of(month).start,
        "month_end": Month.of(month).end,
        "first_month": Month.of(month).shift(1 - config.max_history_months).start,
    }


def load_labels(conn: duckdb.DuckDBPyConnection, month: str, config: model_config.ModelConfig) -> pd.DataFrame:
    """Weighted labels known by the end of `month`, with the features of the month before each inspection."""
    run_sql(conn, "intermediate/random_plans.sql")
    return conn.execute(load_sql("intermediate/labels.sql"), label_params(month, config)).df()


def label_funnel(conn: duckdb.DuckDBPyConnection, month: str, config: model_config.ModelConfig) -> dict[str, int]:
    """Random inspections → with π → with prior features (= labels): nothing leaves the funnel unexplained."""
    run_sql(conn, "intermediate/random_plans.sql")
    cur = conn.execute(load_sql("intermediate/label_funnel.sql"), label_params(month, config))
    names = [d[0] for d in cur.description]
    row = cur.fetchall()[0]  # fetch everything: DuckDB refuses new work while a result is unfinished
    return dict(zip(names, (int(v) for v in row), strict=True))


def windows(labels: pd.DataFrame, month: str, config: model_config.ModelConfig) -> dict[str, np.ndarray]:
    """Boolean masks train / validation / holdout by inspection month (time-based, never shuffled)."""
    start = Month.of(month).start
    m = pd.to_datetime(labels["inspection_month"])
    back = (start.year - m.dt.year.to_numpy()) * 12 + (start.month - m.dt.month.to_numpy())
    h, v = config.holdout_months, config.validation_months
    return {"train": back >= h + v, "validation": (back >= h) & (back < h + v), "holdout": back < h}
