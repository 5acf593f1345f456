"""Materialisation metadata shared by the assets: row counts, column schema with descriptions, preview, and the
numbers Dagster plots across partitions (元数据)."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from functools import cache

import dagster as dg
import duckdb

from zs_risk_pipeline.lib.core.sql import month_rows, row_count, run_sql
from zs_risk_pipeline.lib.features import enterprise_monthly
from zs_risk_pipeline.lib.ingest.contract import Column, Source, sources

# Columns that neither the warehouse's COMMENT ON, the indicator catalogue nor the landing contract describe:
# lineage, keys and what the pipeline derives. "schema.table.column" keys win over plain column names.
_REASON = re.compile(r"^reason_([123])(?:_(zh|en|value|points))?$")
_ORDINAL = {"1": ("Strongest", "首要"), "2": ("Second", "第二"), "3": ("Third", "第三")}
COLUMNS: dict[str, str] = {
    "uscc": "Unified social credit code of the enterprise (统一社会信用代码)",
    "month": "Month of the row, its first day (月份)",
    "name": "Enterprise name from the registry (企业名称)",
    "tier": "Credit-risk tier A low, B general, C higher, D high (信用风险分类)",
    "severity": "Severity: high, medium or low (等级)",
    "policy_version": "Version of the policy files the rows were computed with (政策口径版本)",
    "_extra": "Columns the file had beyond the contract, as JSON, kept in raw and ignored after it (合同外列)",
    "_raw_line": "The file's line as read, personal IDs hashed, kept for rows that could not be split (原始行)",
    "_row_number": "Data row number within the landing file, 1 = the first row after the header (数据行号)",
    "_line_number": "Line number in the landing file where the row starts (文件行号)",
    "_delivery_month": "Month of the landing folder that delivered the row, its first day (交付月份)",
    "_source_file": "Landing file that delivered the row, relative to the landing folder (来源文件)",
    "_file_sha256": "SHA-256 of the landing file's bytes (文件SHA-256)",
    "_ingested_at": "When zs-risk read the landing file (接入时间)",
    "staging.registry.legal_rep_hash": "Keyed hash of the legal representative's ID number; the number itself is "
    "never stored (法定代表人证件号哈希)",
    "staging.inspections.problem_found": "Whether the inspection found a problem: a result code other than no "
    "issue, no relevant activity or closed (是否发现问题)",
    "tiers.enterprise_monthly.month": "Month tiered, its first day (分类月份)",
    "tiers.enterprise_monthly.model_kind": "Kind of scorer: lightgbm or scorecard (模型类型)",
    "tiers.enterprise_monthly.score": "Raw score: LightGBM log-odds margin or scorecard points (原始分)",
    "tiers.enterprise_monthly.tier_by_score": "Tier A/B/C/D from the score alone, before overrides (按分值分类)",
    "tiers.enterprise_monthly.override": "Hard override that decided the tier, if any (强制调整规则)",
    "tiers.enterprise_monthly.override_reason_zh": "Why the override applies, in Chinese (强制调整原因（中文）)",
    "tiers.enterprise_monthly.override_reason_en": "Why the override applies, in English (强制调整原因（英文）)",
    "monitoring.early_warnings.month": "Tier month of the warning, its first day (预警月份)",
    "monitoring.early_warnings.tier": "The enterprise's tier of the month (信用风险分类)",
    "monitoring.early_warnings.suggested_action": "Suggested action from the rule's configuration (建议措施)",
    "sampling.trigger_queue.month": "Tier month; the triggered inspection follows in the next month (分类月份)",
    "sampling.trigger_queue.tier": "Tier of the month, A or B (信用风险分类)",
    "sampling.trigger_queue.trigger_type": "What triggered: complaint or early_warning (触发类型)",
    "sampling.trigger_queue.triggers": "Complaints received in the month, or warning rules fired (触发次数)",
    "sampling.trigger_queue.substantiated": "Complaints found true; empty for a warning (属实投诉数)",
    "sampling.trigger_queue.first_on": "First complaint received; empty for a warning (首次投诉日期)",
    "sampling.trigger_queue.last_on": "Last complaint received; empty for a warning (末次投诉日期)",
    "sampling.trigger_queue.channels": "Complaint channels: 12315, 12345, letter, visit (投诉渠道)",
    "sampling.trigger_queue.rules": "Warning rules that fired; empty for a complaint (预警规则)",
    "sampling.trigger_queue.severity": "Highest severity among the warning rules; empty for a complaint (预警等级)",
    "sampling.allocation.month": "Tier month M, its first day; the proposal is for the plans of M+1 (分类月份)",
    "sampling.allocation.plan_id": "Plan id: prefix and the year-month of M+1 (抽查计划编号)",
    "sampling.allocation.department": "Member unit whose inspectors carry the plan out (实施部门)",
    "sampling.allocation.tier": "Tier of month M: the stratum (信用风险分类)",
    "sampling.allocation.frame_size": "Enterprises of the tier in the plan's frame of M (抽查对象数)",
    "sampling.allocation.population": "Enterprises a year the annual ratio applies to: the frame with those the plan "
    "drew earlier in the year, N × k ÷ (k − b × ratio) (年度抽查基数)",
    "sampling.allocation.inspections_known": "Random inspections of the plan and tier in the rate window known by M "
    "(已知随机抽查数)",
    "sampling.allocation.rate_estimate": "Problem-found rate of those inspections, Hájek-weighted 1/π; empty without "
    "any (问题发现率估计)",
    "sampling.allocation.rate_low": "Lower end of the rate's Korn–Graubard interval (置信区间下限)",
    "sampling.allocation.rate_high": "Upper end of the rate's Korn–Graubard interval (置信区间上限)",
    "sampling.allocation.rate_used": "Rate the proposal maximises on, made conservative as config/allocation.yaml says "
    "(shrunk toward the tier's city-wide rate, or the lower bound); empty when held (采用的问题发现率)",
    "sampling.allocation.rate_basis": "Where the rate comes from: plan_tier, tier (the tier's city-wide rate) or none "
    "(too few inspections of the tier: ratio held) (发现率来源)",
    "sampling.allocation.current_ratio": "Annual ratio configured in sampling_plans.yaml (现行年度抽查比例)",
    "sampling.allocation.floor": "Lowest annual ratio allowed (抽查比例下限)",
    "sampling.allocation.floor_basis": "legal_floor (publicity plan: 3 % of every tier a year) or min_ratio (every "
    "firm's minimum chance) (下限依据)",
    "sampling.allocation.cap": "Highest annual ratio allowed: the tier's cap, 无事不扰 for A (抽查比例上限)",
    "sampling.allocation.proposed_ratio": "Annual ratio proposed: an exact decimal, in steps of 0.001 unless at a "
    "bound (建议年度抽查比例)",
    "sampling.allocation.inspections_current": "Inspections a year at the configured ratio (现行年度检查数)",
    "sampling.allocation.inspections_proposed": "Inspections a year at the proposed ratio (建议年度检查数)",
    "sampling.allocation.expected_current": "Problems expected a year at the configured ratio; empty when held "
    "(现行比例预期发现问题数)",
    "sampling.allocation.expected_proposed": "Problems expected a year at the proposed ratio; empty when held "
    "(建议比例预期发现问题数)",
    "sampling.allocation.inspectors": "The plan's inspectors its draw may pair: of its department, active, certificate "
    "valid through M+1, qualified for every item (可派检查人员数)",
    "sampling.allocation.capacity": "Inspections a year they can staff: inspectors × workload cap ÷ 2 (two a task) × "
    "draws a year (检查力量上限)",
    "sampling.allocation.budget": "Inspections a year the proposal may use for the plan: what the configured ratios "
    "use, or the capacity (config/allocation.yaml budget) (可用检查数)",
    "sampling.allocation.binding": "What holds the proposed ratio: floor, cap, change_limit, all_firms, capacity, "
    "budget, none (the plan's marginal tier) or no_estimate (约束条件)",
    "sampling.allocation_frontier.month": "Tier month M, its first day; the plans of M+1 (分类月份)",
    "sampling.allocation_frontier.step": "Budget step: 1 = what the floors alone need, the last = the most the "
    "inspectors can staff (步骤)",
    "sampling.allocation_frontier.budget": "Inspections a year, all plans of M+1 together (年度检查数)",
    "sampling.allocation_frontier.expected_findings": "The most problems expected a year at that budget "
    "(预期发现问题数)",
    "sampling.allocation_frontier.marginal_findings": "Problems expected per further inspection since the step before "
    "(边际发现问题数)",
    "publicity.month": "Delivery month of the results, its first day (交付月份)",
    "publicity.name": "Enterprise name from the registry as known when published (企业名称)",
    "publicity.task_id": "Inspection task number (任务编号)",
    "publicity.plan_id": "Inspection plan number; empty for a triggered inspection (抽查计划编号)",
    "publicity.plan_name": "Inspection plan name, when the plan was delivered by then (抽查计划名称)",
    "publicity.inspection_type": "random (双随机抽查), triggered (触发式检查) or special (专项检查) (检查类型)",
    "publicity.department_code": "Member-unit code as delivered (部门代码)",
    "publicity.department": "Inspecting authority as published (检查实施机关)",
    "publicity.inspected_on": "Day of the inspection, when the result was formed (检查日期)",
    "publicity.result_text": "Inspection result as published (检查结果)",
    "publicity.recorded_on": "Day the source entered the result; empty when it sent none (录入日期)",
    "publicity.batch_id": "One-public batch that published the result (公示批次)",
    "publicity.source_file": "Landing file that delivered the result (来源文件)",
    "publicity.deadline": "The 20th working day after the inspection (公示截止日期)",
    "publicity.published_on": "Publication date of the batch (公示日期)",
    "publicity.late": "Published after the deadline (是否超期)",
    "publicity.working_days_taken": "Working days after the inspection up to publication (公示用时（工作日）)",
    "publicity.deadline_basis": "Calendar of the deadline: statutory, configured or weekends_only (截止日口径)",
}
_CONTRACT_TYPES = {
    "uscc": "unified social credit code",
    "str": "text",
    "int": "whole number",
    "decimal": "number",
    "date": "date",
    "bool": "yes/no",
    "pii": "personal ID, replaced by a keyed hash as it is read",
    "town": "town or street code",
    "industry": "national industry code",
}


@cache
def _indicator_texts() -> dict[str, str]:
    return {i.name: i.comment for i in enterprise_monthly.indicators()}


def _contract_text(column: str, source_name: str | None) -> str | None:
    """'<Name>, <type>, required or optional, as delivered by <source> (<Chinese header>，<source in Chinese>)'."""
    found: list[tuple[Source, Column]] = [
        (src, col)
        for src in sources().values()
        for col in src.columns
        if col.name == column and (source_name is None or src.name == source_name)
    ]
    if not found:
        return None
    src, col = found[0]
    kind = _CONTRACT_TYPES.get(col.type, col.type)
    allowed = f"; one of {', '.join(col.enum)}" if col.enum else ""
    need = "required" if col.required else "optional"
    human = col.name.replace("_", " ").capitalize()
    return f"{human}, {kind}, {need}{allowed}; delivered by {src.name} ({col.alias}，{src.title_zh})"


def column_description(schema: str, table: str, column: str, comment: str | None = None) -> str:
    """What a column of a warehouse table holds, in English with the Chinese term: its COMMENT ON when the
    warehouse has one, else the indicator catalogue, the glossary above, the landing contract (raw and staging
    columns), a tier's reason column; never empty."""
    if comment:
        return comment
    if schema == "features" and column in _indicator_texts():
        return _indicator_texts()[column]
    for key in (f"{schema}.{table}.{column}", f"{schema}.{column}"):
        if key in COLUMNS:
            return COLUMNS[key]
    source_name = table if schema in ("raw", "staging") else None
    if source_name and (text := _contract_text(column, source_name)):
        return text
    if column in COLUMNS:
        return COLUMNS[column]
    if match := _REASON.fullmatch(column):
        rank, part = match.groups()
        en, zh = _ORDINAL[rank]
        return {
            None: f"{en} reason: indicator of the largest risk contribution or scorecard rule ({zh}原因指标)",
            "zh": f"{en} reason in Chinese ({zh}原因（中文）)",
            "en": f"{en} reason in English ({zh}原因（英文）)",
            "value": f"Value of the {en.lower()} reason's indicator this month ({zh}原因指标值)",
            "points": f"Risk points the {en.lower()} reason contributes ({zh}原因贡献分值)",
        }[part]
    return _contract_text(column, None) or f"{column.replace('_', ' ').capitalize()} ({schema}.{table})"


def column_schema(conn: duckdb.DuckDBPyConnection, schema: str, table: str) -> dg.TableSchema:
    """The table's columns with type, nullability and description, in column order (dagster/column_schema)."""
    cols = run_sql(conn, "ops/catalog.sql#columns", {"schema": schema, "table": table})
    comments = dict(run_sql(conn, "ops/catalog.sql#column_comments", {"schema": schema, "table": table}))
    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                name=c,
                type=t,
                description=column_description(schema, table, c, comments.get(c)),
                constraints=dg.TableColumnConstraints(nullable=nl == "YES"),
            )
            for c, t, nl, _ in cols
        ]
    )


def floats(values: Mapping[str, float | int | None]) -> dict[str, dg.FloatMetadataValue]:
    """Float metadata, which Dagster plots across materialisations and partitions; a value that is undefined
    (None, NaN, infinite: no rows, no inspections) is left out rather than plotted as a made-up number."""
    return {
        key: dg.MetadataValue.float(float(v)) for key, v in values.items() if v is not None and math.isfinite(float(v))
    }


def table_metadata(
    conn: duckdb.DuckDBPyConnection, schema: str, table: str, month: dt.date, month_column: str
) -> dict[str, object]:
    """Schema and comment of the table, row count and a preview of one month's slice."""
    cols = run_sql(conn, "ops/catalog.sql#columns", {"schema": schema, "table": table})
    n = row_count(conn, f"{schema}.{table}", month, month_column)
    head = month_rows(conn, f"{schema}.{table}", month, month_column, ordered=True, limit=5).df()
    md: dict[str, object] = {
        "dagster/table_name": f"{schema}.{table}",
        "dagster/partition_row_count": dg.MetadataValue.int(int(n)),
        "dagster/column_schema": dg.MetadataValue.table_schema(column_schema(conn, schema, table)),
        "preview": dg.MetadataValue.md(head.to_markdown(index=False) if len(head) else "_no rows this month_"),
    }
    if cols and cols[0][3]:
        md["table_comment"] = cols[0][3]
    return md
