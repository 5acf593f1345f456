"""Monthly enterprise features (企业月度特征): the documented indicator catalogue and the point-in-time table.

- `indicators()` reads reference/indicators.csv: one row per feature column, with its Chinese name, SAMR
  dimension, expected direction of risk, kind, valid range and tolerated NULL share.
- `build_enterprise_monthly(conn, month)` computes sql/intermediate/features.enterprise_monthly.sql#query for one
  month and replaces that month of features.enterprise_monthly in one transaction.
- `alive_count(conn, month)` counts, independently and simply, the enterprises the table must hold.

Plain Python, no Dagster. The SQL is sql/intermediate/features.enterprise_monthly.sql and its check in sql/checks/.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import duckdb

from zs_risk_pipeline.lib.core.db import transaction
from zs_risk_pipeline.lib.core.month import Month
from zs_risk_pipeline.lib.core.sql import comment_on, drop, load_sql, run_sql
from zs_risk_pipeline.lib.ingest.contract import REFERENCE_DIR
from zs_risk_pipeline.lib.policy import base, folder
from zs_risk_pipeline.lib.policy.features import FeaturePolicy

INDICATORS_CSV = REFERENCE_DIR / "indicators.csv"
TABLE = "features.enterprise_monthly"
# The staging tables the indicators are computed from.
SOURCES = (
    "registry",
    "annual_reports",
    "abnormal_list",
    "dishonest_list",
    "penalties",
    "complaints",
    "licenses",
    "inspections",
)
KEY_COLUMNS = ("uscc", "month")

DIMENSIONS = {
    "basic": "企业基础属性信息",
    "dynamic": "企业动态信息",
    "supervision": "监管信息",
    "related": "关联关系信息",
    "social": "社会评价信息",
}
KINDS = ("numeric", "binary", "categorical")
TABLE_COMMENT = (
    "Monthly point-in-time credit-risk indicators of every enterprise in scope alive at month end, five SAMR "
    "dimensions; one partition per month (企业月度特征)"
)
KEY_COMMENTS = {
    "uscc": "Unified social credit code of the enterprise (统一社会信用代码)",
    "month": "Month of the features (its first day): data dated up to its last day and delivered by then (特征月份)",
}
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True)
class Indicator:
    """One documented feature column (指标)."""

    name: str
    name_zh: str
    dimension: str  # basic | dynamic | supervision | related | social
    dimension_zh: str
    direction: int  # 1: higher → riskier, -1: higher → safer, 0: not known (no monotone constraint)
    kind: str  # numeric | binary | categorical
    min: float | None  # hard valid range; None = unbounded
    max: float | None
    max_null_rate: float  # largest tolerated share of NULLs in a month
    description: str

    @property
    def comment(self) -> str:
        """The column comment of the feature table: English description (中文名)."""
        return f"{self.description} ({self.name_zh})"


def _bound(text: str) -> float | None:
    return float(text) if text.strip() else None


@cache
def _catalogue(path: Path) -> tuple[Indicator, ...]:
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    out: list[Indicator] = []
    for i, r in enumerate(rows, start=2):  # line numbers as an editor shows them (header = line 1)
        where = f"{path.name} line {i}"
        ind = Indicator(
            name=r["name"].strip(),
            name_zh=r["name_zh"].strip(),
            dimension=r["dimension"].strip(),
            dimension_zh=r["dimension_zh"].strip(),
            direction=int(r["direction"]),
            kind=r["kind"].strip(),
            min=_bound(r["min"]),
            max=_bound(r["max"]),
            max_null_rate=float(r["max_null_rate"]),
            description=r["description"].strip(),
        )
        # The catalogue drives column comments, checks and monotone constraints: refuse a malformed row.
        problems = [
            f"name {ind.name!r} is not a lower-case identifier" if not _NAME.match(ind.name) else "",
            "name_zh is empty" if not ind.name_zh else "",
            "description is empty" if not ind.description else "",
            f"unknown dimension {ind.dimension!r}" if ind.dimension not in DIMENSIONS else "",
            f"dimension_zh {ind.dimension_zh!r} does not match {ind.dimension}"
            if DIMENSIONS.get(ind.dimension, ind.dimension_zh) != ind.dimension_zh
            else "",
            f"direction {ind.direction} not in -1, 0, 1" if ind.direction not in (-1, 0, 1) else "",
            f"unknown kind {ind.kind!r}" if ind.kind not in KINDS else "",
            "a categorical indicator has no direction" if ind.kind == "categorical" and ind.direction else "",
            f"max_null_rate {ind.max_null_rate} outside [0, 1]" if not 0 <= ind.max_null_rate <= 1 else "",
            "min > max" if ind.min is not None and ind.max is not None and ind.min > ind.max else "",
        ]
        problems = [p for p in problems if p]
        if problems:
            raise ValueError(f"{where}: " + "; ".join(problems))
        out.append(ind)
    names = [i.name for i in out]
    dupes = sorted({n for n in names if names.count(n) > 1} | (set(names) & set(KEY_COLUMNS)))
    if dupes:
        raise ValueError(f"{path.name}: duplicate or reserved indicator names {dupes}")
    return tuple(out)


def indicators(path: Path | None = None) -> list[Indicator]:
    """The indicator catalogue in column order (指标目录)."""
    return list(_catalogue(path or INDICATORS_CSV))


def indicator_names() -> list[str]:
    return [i.name for i in indicators()]


def entity_types_in_scope(config_path: Path | None = None) -> list[str]:
    """Entity types of the enterprise classification, from config/features.yaml (operator policy) of the policy
    folder in use, or of the file `config_path`."""
    policy = folder.current().features if config_path is None else base.load_file(FeaturePolicy, config_path)
    return list(policy.entity_types_in_scope)


def month_params(month: str, entity_types: list[str] | None = None) -> dict[str, Any]:
    """Named parameters of the feature SQL for a month given as 'YYYY-MM' or 'YYYY-MM-01'."""
    if not Month.is_label_or_key(month):
        raise ValueError(f"month must be 'YYYY-MM' or 'YYYY-MM-01', got {month!r}")
    return {
        "month": Month.of(month).start,
        "month_end": Month.of(month).end,
        "entity_types": entity_types if entity_types is not None else entity_types_in_scope(),
    }


def _columns(conn: duckdb.DuckDBPyConnection) -> list[str]:
    return [
        r[0] for r in run_sql(conn, "ops/catalog.sql#columns", {"schema": "features", "table": "enterprise_monthly"})
    ]


def _comment_table(conn: duckdb.DuckDBPyConnection, catalogue: list[Indicator]) -> None:
    """COMMENT ON needs string literals (DuckDB cannot take a parameter there): the texts go through
    lib.sql's literal quoting (single quotes doubled), the column names are quoted identifiers."""
    comment_on(conn, "TABLE", TABLE, TABLE_COMMENT)
    comments = {**KEY_COMMENTS, **{i.name: i.comment for i in catalogue}}
    for column, text in comments.items():
        comment_on(conn, "COLUMN", f"{TABLE}.{column}", text)


def build_enterprise_monthly(conn: duckdb.DuckDBPyConnection, month: str, entity_types: list[str] | None = None) -> int:
    """Compute the features of `month` and replace that month of features.enterprise_monthly; rows written.

    The month is computed into a temporary table, then, in the same transaction, its old rows are deleted
    and the new ones inserted: a reader never sees half a month, a re-run replaces the partition.
    `entity_types`: the entity types in scope (default: those of the policy folder in use).
    """
    params = month_params(month, entity_types)
    catalogue = indicators()
    expected = [*KEY_COLUMNS, *(i.name for i in catalogue)]
    # The SELECT is bound with its parameters as a relation and scanned inside DuckDB (never through Python).
    rel = conn.sql(load_sql("intermediate/features.enterprise_monthly.sql#query"), params=params)
    if rel.columns != expected:
        missing = [c for c in expected if c not in rel.columns]
        extra = [c for c in rel.columns if c not in expected]
        raise RuntimeError(
            "sql/intermediate/features.enterprise_monthly.sql#query and reference/indicators.csv disagree: "
            f"missing {missing}, not in the catalogue {extra}, or a different order"
        )
    with transaction(conn, {"_features_query": rel}):
        run_sql(conn, "intermediate/features.enterprise_monthly.sql#compute")
        run_sql(conn, "intermediate/features.enterprise_monthly.sql")
        have = _columns(conn)
        if have != expected:  # a table written under an older catalogue: never mix two column layouts
            raise RuntimeError(
                f"{TABLE} has columns {have} but the catalogue defines {expected}; "
                "migrate or drop the table before writing a month with the new catalogue"
            )
        _comment_table(conn, catalogue)  # every run, so edited descriptions reach the warehouse
        rows = run_sql(conn, "intermediate/features.enterprise_monthly.sql#replace_month", {"month": params["month"]})[
            0
        ][0]
        drop(conn, "temp._features_month")  # the temporary copy of the month
    return int(rows)


def alive_count(conn: duckdb.DuckDBPyConnection, month: str, entity_types: list[str] | None = None) -> int:
    """Enterprises in scope alive at the end of `month`, counted directly from staging.registry (行数核对)."""
    return int(run_sql(conn, "checks/features.enterprise_monthly.sql", month_params(month, entity_types))[0][0])
