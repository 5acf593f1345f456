"""The oracle comparison (理想排序对照): how close the model's ranking comes to the city's hidden truth.

Only the synthetic city knows each inspection's true probability of finding a problem, so only the demo and the
benchmarks can ask how the model compares with ranking by it. The pipeline never reads the truth: this module
recomputes the model step's holdout from the warehouse (the labels known by the month's end, the same windows)
and scores the hidden probability on it.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from zs_risk_pipeline.lib.model import labels as model_labels
from zs_risk_pipeline.lib.model import metrics, model_config


def load_truth(truth_dir: Path) -> pd.DataFrame | None:
    """(task_id, p_problem) of every inspection the city and its inspectorate carried out, or None when the truth
    is not there."""
    path = Path(truth_dir) / "inspections.parquet"
    if not path.exists():
        return None
    own = pd.read_parquet(path, columns=["task_id", "p_problem"])
    carried = [
        pd.read_csv(f, usecols=["task_id", "p_problem"], dtype={"task_id": str}).dropna()
        for f in sorted((Path(truth_dir) / "inspectorate").glob("*.csv"))
    ]
    return pd.concat([own, *carried], ignore_index=True) if carried else own


def holdout_auc(
    conn: duckdb.DuckDBPyConnection, month: str, truth: pd.DataFrame, config: model_config.ModelConfig | None = None
) -> float | None:
    """Weighted AUC of the hidden probability on the holdout the model step of `month` used; None when that
    holdout lacks either outcome or an inspection the truth does not know."""
    config = config or model_config.load_config()
    labels = model_labels.load_labels(conn, month, config)
    hold = labels[model_labels.windows(labels, month, config)["holdout"]].reset_index(drop=True)
    y = hold["label"].to_numpy(dtype="float64")
    if len(hold) == 0 or y.min() == y.max():
        return None
    p = hold[["task_id"]].merge(truth, on="task_id", how="left")["p_problem"].to_numpy(dtype="float64")
    if not np.isfinite(p).all():
        return None
    return metrics.weighted_auc(y, p, hold["weight"].to_numpy(dtype="float64"))
