"""The mart's tables (集市表目录): what is published, where it lives, and how a month of it is read.

The registry every stage reads its published inputs through (MART_TABLES), the mart file and its storage
version, the reference tables, and the fingerprint an audit binds its verdict to. Plain Python, no Dagster.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from zs_risk_pipeline.lib.core.month import Month
from zs_risk_pipeline.lib.core.sql import month_rows, run_sql
from zs_risk_pipeline.lib.evidence import signing

MART_FILE = "mart.duckdb"


# The storage format the catalogue is written in: the oldest DuckDB release analysts' clients are expected to run
# (the DuckDB CLI on PyPI lags the Python package), so any current client opens the mart.
MART_STORAGE_VERSION = "v1.4.0"


# Reference tables copied into the catalogue (参考代码表): name → (reference CSV, table comment).
REFERENCE_TABLES: dict[str, tuple[str, str]] = {
    "towns": (
        "towns.csv",
        "The 23 towns and streets of Zhongshan with code, names, statistical grouping (统筹区) and branch bureau "
        "(镇街代码表)",
    ),
    "industries": (
        "industries.csv",
        "GB/T 4754-2017 industry classes found in Zhongshan, Chinese and English names (国民经济行业分类)",
    ),
    "industry_sections": (
        "industry_sections.csv",
        "GB/T 4754-2017 sections A-T with Chinese and English names and division ranges (行业门类)",
    ),
    "result_codes": (
        "result_codes.csv",
        "Canonical inspection result codes, Chinese and English, and whether each means a problem found (检查结果代码)",
    ),
}


MART_COLUMNS_CSV = "mart_columns.csv"  # column comments of the mart, beside the indicator catalogue


GENESIS = signing.GENESIS


EVIDENCE_DIR = "evidence"  # beside mart/ in the home: restricted


class PublishRefused(RuntimeError):
    """The month may not be published: a required check is missing, failed, or saw other content."""


@dataclass(frozen=True)
class MartTable:
    name: str  # view name in the mart
    schema: str  # warehouse schema.table it is published from
    table: str
    month_column: str
    required_checks: tuple[str, ...]
    description: str  # English (中文)
    policy: str  # the output of lib/policy/versions.py whose policy files the content depends on
    policy_column: bool = False  # the table records its policy version per row (checked against the files)
    model_column: str | None = None  # the column naming the model that computed each row

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.table}"


@dataclass(frozen=True)
class Fingerprint:
    rows: int
    sha256: str


@dataclass(frozen=True)
class PublishResult:
    mart_table: str
    month: str
    file: Path  # the current file the mart reads
    file_sha256: str
    rows: int
    entry_hash: str  # the log entry of the version now current
    version: int
    version_file: Path  # the version's own file, kept when later versions supersede it
    unchanged: bool  # True when the content was already published as this version: nothing was written
    context: dict  # what the log entry records beside the content: policy, policy changed, release
    recovered: tuple[str, ...] = ()  # what an interrupted earlier publish had left, and what became of it


MART_TABLES: dict[str, MartTable] = {
    "enterprise_features": MartTable(
        name="enterprise_features",
        schema="features",
        table="enterprise_monthly",
        month_column="month",
        required_checks=("features_quality_suite", "row_count_matches_alive_enterprises"),
        policy="features",
        description=(
            "Monthly point-in-time indicators of every enterprise alive at month end, five SAMR dimensions; "
            "see the indicators table (企业月度特征：月末存续企业的五维度指标，时点口径)"
        ),
    ),
    "enterprise_tiers": MartTable(
        name="enterprise_tiers",
        schema="tiers",
        table="enterprise_monthly",
        month_column="month",
        required_checks=(
            "tiers_quality_suite",
            "one_tier_per_alive_enterprise",
            "serving_model_verified",
            "holdout_problem_rate_increasing",
            "latest_results_keep_tier_order",
        ),
        policy="tiers",
        policy_column=True,
        model_column="model_version",
        description=(
            "Monthly credit-risk tier A/B/C/D of every enterprise alive at month end with score, probability, "
            "points, override and top-3 reasons; internal reference data, never for the public "
            "(企业信用风险分类结果：内部参考，不对外公开)"
        ),
    ),
    "early_warnings": MartTable(
        name="early_warnings",
        schema="monitoring",
        table="early_warnings",
        month_column="month",
        required_checks=("early_warnings_well_formed",),
        policy="early_warnings",
        policy_column=True,
        description=(
            "Monthly early warnings by the rules of config/warning_rules.yaml, one row per enterprise and rule, "
            "with severity, tier, evidence and suggested action; internal reference data, never for the public "
            "(企业风险预警信息：内部参考，不对外公开)"
        ),
    ),
    "inspection_effectiveness": MartTable(
        name="inspection_effectiveness",
        schema="effectiveness",
        table="inspection_effectiveness",
        month_column="month",
        required_checks=("inspection_effectiveness_well_formed",),
        policy="effectiveness",
        policy_column=True,
        description=(
            "Monthly effectiveness of the inspections, one row per cut (all, trigger, plan, department, tier, "
            "random inspections by tier, the tier-stratified plans pooled, the city-wide estimate): problems found "
            "per 100 inspections, the city's problem rate estimated from the random city-wide plans (1/π, with its "
            "interval), the lift over it at equal budget and the share of problem firms reached; holds the tiers' "
            "rates: internal reference data, never for the public (监管效能：内部参考，不对外公开)"
        ),
    ),
    "enterprises": MartTable(
        name="enterprises",
        schema="reporting",
        table="enterprises",
        month_column="month",
        required_checks=("enterprises_well_formed",),
        policy="source_records",
        description=(
            "Enterprise dimension: every enterprise the registry knows at month end with name, type, industry, "
            "town and status, point in time; no personal data (企业基本信息：月末登记状态，不含个人信息)"
        ),
    ),
    "inspection_results": MartTable(
        name="inspection_results",
        schema="reporting",
        table="inspection_results",
        month_column="month",
        required_checks=("inspection_results_well_formed",),
        policy="source_records",
        description=(
            "Inspection results by delivery month, with plan id, plan name and kind, trigger, result codes and "
            "problem found; internal (抽查检查结果：含计划编号与检查方式，内部参考)"
        ),
    ),
    "inspection_plans": MartTable(
        name="inspection_plans",
        schema="reporting",
        table="inspection_plans",
        month_column="month",
        required_checks=("inspection_plans_well_formed",),
        policy="sampling",
        description=(
            "The double-random plans zs-risk drew from the tiers of the month, one row per drawn enterprise with "
            "its stratum's N, n and inclusion probability and whether the task is staffed; no seeds, no inspectors; "
            "internal (双随机抽查计划任务：内部参考)"
        ),
    ),
}


# Tables audited as the mart's are (a blocking check's verdict bound to exactly the rows it saw, in audit.audits) but
# never published: the allocation proposal stays in the warehouse until an operator adopts it in config/.
AUDITED_TABLES: dict[str, MartTable] = {
    "allocation": MartTable(
        name="allocation",
        schema="sampling",
        table="allocation",
        month_column="month",
        required_checks=("allocation_keeps_floors_caps_and_capacity",),
        policy="allocation",
        policy_column=True,
        description=(
            "Proposed annual ratios per plan and tier for the plans of M+1 within the inspectors' capacity, floors "
            "and caps; internal, never adopted by itself (动态调整抽查比例建议：内部)"
        ),
    ),
}


# The bookkeeping of the publish (审计留痕与发布日志) in the warehouse: check verdicts, the log, the delivery checks.
AUDIT_SQL = ("ops/audit.audits.sql", "ops/audit.publish_log.sql", "ops/audit.deliveries.sql")


def prepare(conn: duckdb.DuckDBPyConnection) -> None:
    for name in AUDIT_SQL:
        run_sql(conn, name)
    columns = {r[0] for r in run_sql(conn, "ops/catalog.sql#columns", {"schema": "audit", "table": "publish_log"})}
    if "version" not in columns:
        # A log written before versions existed: its entries were hashed without a version, so rewriting them
        # would break the chain it exists to protect. Such a home is rebuilt, not migrated.
        raise PublishRefused(
            "audit.publish_log was written by an earlier release without published versions; rebuild this "
            "ZS_RISK_HOME (keep landing/, delete the rest) and run the months again"
        )


def fingerprint(conn: duckdb.DuckDBPyConnection, spec: MartTable, month: str) -> Fingerprint:
    ident = {"schema": spec.schema, "table": spec.table, "month_column": spec.month_column}
    rows, sha = run_sql(conn, "ops/audit.audits.sql#fingerprint", {"month": Month.of(month).start}, ident)[0]
    return Fingerprint(int(rows), sha)


def month_frame(conn: duckdb.DuckDBPyConnection, spec: MartTable, month: str | dt.date) -> pd.DataFrame:
    """One month of the table as the checks see it (empty when the month was never written)."""
    day = month if isinstance(month, dt.date) else Month.of(month).start
    return month_rows(conn, spec.qualified, day, spec.month_column).df()


def heads_file(mart_dir: Path) -> Path:
    return Path(mart_dir).parent / EVIDENCE_DIR / signing.HEADS_FILE
