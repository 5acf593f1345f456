"""Publicity group (一公开): inspection results published to the public as they arrive, and the month's record."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from zs_risk_pipeline.defs.global_policy import POOL
from zs_risk_pipeline.defs.metadata import table_metadata
from zs_risk_pipeline.defs.partitions import monthly
from zs_risk_pipeline.defs.resources import ZsRiskHome, ZsRiskPolicy
from zs_risk_pipeline.lib.core import workdays
from zs_risk_pipeline.lib.core.month import Month
from zs_risk_pipeline.lib.publicity import batches as publicity_batches
from zs_risk_pipeline.lib.publicity import export, export_files, export_rules

RESULT_BATCHES = dg.AssetKey(["publicity", "result_batches"])
INSPECTION_RESULTS = dg.AssetKey(["publicity", "inspection_results"])
SOURCES = [
    dg.AssetKey(["staging", "inspections"]),
    dg.AssetKey(["staging", "plans"]),
    dg.AssetKey(["staging", "registry"]),
]


@dg.asset(
    key=RESULT_BATCHES,
    deps=SOURCES,
    group_name="publicity",
    partitions_def=monthly,
    pool=POOL,
    description=(
        "Inspection results published on arrival: every inspections landing file of the month, once staged, "
        "becomes an immutable batch under $ZS_RISK_HOME/exports/publicity/<YYYY-MM>/batches/"
        "<publication date>_<file stem>.<utf8|gb18030>.csv, in the one-public form (written aside, checked for "
        "tiers, scores and strata, then renamed), with an Excel copy <publication date>_<file stem>.xlsx (every "
        "cell text, so an all-digit USCC keeps its digits). Its publication date is the first working day after "
        "the latest day the source entered one of its results (录入日期; the ingestion day for rows without). "
        "A batch is never rewritten: a rerun verifies and skips it; a changed file is a new batch. Kept in "
        "publicity.result_batches and publicity.result_batch_rows. "
        "一公开：抽查检查结果随到随公示，每个结果文件一个批次，发布后不再改写。"
    ),
)
def result_batches(
    context: dg.AssetExecutionContext, warehouse: DuckDBResource, zs_home: ZsRiskHome, policy: ZsRiskPolicy
) -> dg.MaterializeResult:
    month = context.partition_key
    with warehouse.get_connection() as conn:
        try:
            out = publicity_batches.publish_batches(conn, month, zs_home.paths().exports, policy.load().publicity)
        except export_rules.ExportRefused as e:
            raise dg.Failure(description=str(e)) from None
        md = table_metadata(conn, "publicity", "result_batch_rows", Month.of(month).start, "month")
    for problem in out.problems:
        context.log.warning(problem)
    table = "| batch | landing file | rows | published | late |\n|---|---|---|---|---|\n" + "\n".join(
        f"| {b.batch_id} | {b.source_file} | {b.rows} | {b.published_on} | {b.late} |" for b in out.batches
    )
    return dg.MaterializeResult(
        metadata={
            **md,
            "batches": dg.MetadataValue.md(table if out.batches else "_no results delivered this month_"),
            "batches_published": len(out.published),
            "batches_unchanged": len(out.unchanged),
            "batches_found_in_place": out.adopted,
            "rows_published": sum(b.rows for b in out.published),
            "late_rows_published": sum(b.late for b in out.published),
            "problems": out.problems,
            "folder": dg.MetadataValue.path(
                str(export_files.folder_of(zs_home.paths().exports, month) / export_rules.BATCH_DIR)
            ),
        }
    )


@dg.asset_check(
    asset=RESULT_BATCHES,
    name="batches_unchanged_and_carry_no_tier_score_or_stratum",
    blocking=True,
    partitions_def=monthly,
    description=(
        "Re-reads every published batch of the month: both files there and byte for byte as published (SHA-256 "
        "on record), exactly the contract's columns, nothing named or coded like a tier, score or stratum, the "
        "same table in UTF-8 and GB18030, and the rows on record. 批次文件发布后未被改动，且不含风险分类、分值或分层。"
    ),
)
def batches_unchanged_and_carry_no_tier_score_or_stratum(
    context: dg.AssetCheckExecutionContext, warehouse: DuckDBResource, zs_home: ZsRiskHome
) -> dg.AssetCheckResult:
    with warehouse.get_connection() as conn:
        problems, batches, rows = publicity_batches.verify_batches(conn, context.partition_key, zs_home.paths().exports)
    return dg.AssetCheckResult(
        passed=not problems, metadata={"batches": batches, "rows_read": rows, "problems": problems}
    )


@dg.asset(
    key=INSPECTION_RESULTS,
    deps=[RESULT_BATCHES, *SOURCES],
    group_name="publicity",
    partitions_def=monthly,
    pool=POOL,
    description=(
        "The month's record of the inspection results delivered this month (double-random, triggered and "
        "special) as the public sees them: enterprise, plan, authority, date and result, each with the "
        "publication date of the batch that first published it on arrival, the deadline of the 20th working day "
        "after the result was formed (statutory holidays and make-up days) and a late flag. Results are published "
        "as they arrive, so a late result is one its source delivered late, never one held back by zs-risk. "
        "Written aside, checked for tiers, scores and strata, then published to "
        "$ZS_RISK_HOME/exports/publicity/<YYYY-MM>/ in UTF-8 (BOM) and GB18030 with an Excel copy (codes as "
        "text cells), and kept in "
        "publicity.inspection_results. 一公开：当月抽查检查结果公示记录（按批次公示日期，20个工作日期限，"
        "超期即来源迟报，不含风险分类）。"
    ),
)
def inspection_results(
    context: dg.AssetExecutionContext, warehouse: DuckDBResource, zs_home: ZsRiskHome, policy: ZsRiskPolicy
) -> dg.MaterializeResult:
    month = context.partition_key
    with warehouse.get_connection() as conn:
        try:
            out = export.export_month(conn, month, zs_home.paths().exports, policy.load().publicity)
        except export_rules.ExportRefused as e:
            raise dg.Failure(description=str(e)) from None
        md = table_metadata(conn, "publicity", "inspection_results", Month.of(month).start, "month")
    late = (
        "| task | inspected | deadline | recorded by the source | published | working days taken |\n"
        "|---|---|---|---|---|---|\n"
        + "\n".join(
            f"| {r['task_id']} | {r['inspected_on']} | {r['deadline']} | {r['recorded_on']} | {r['published_on']} "
            f"| {r['working_days_taken']} |"
            for r in out.late_examples
        )
    )
    return dg.MaterializeResult(
        metadata={
            **md,
            "late_rows": out.late,
            "late_examples": dg.MetadataValue.md(late if out.late_examples else "_none late_"),
            "batches": out.batches,
            "first_published_on": str(out.first_published or ""),
            "last_published_on": str(out.last_published or ""),
            "deadline_working_days": out.deadline_working_days,
            "files_sha256": out.files,
            "encodings": dict(export_rules.ENCODING_NAMES),
            "calendar_basis_by_year": out.calendar_basis_by_year,
            "rows_by_deadline_basis": out.rows_by_basis,
            "calendar_years_ignored_in_config": out.configured_years_ignored,
            "departments_unmapped": out.departments_unmapped,
            "names_missing": out.names_missing,
            "folder": dg.MetadataValue.path(str(export_files.folder_of(zs_home.paths().exports, month))),
        }
    )


@dg.asset_check(
    asset=INSPECTION_RESULTS,
    name="export_carries_no_tier_score_or_stratum",
    blocking=True,
    partitions_def=monthly,
    description=(
        "Re-reads the published files in both encodings: exactly the contract's columns, no column named like "
        "a tier, score, probability or stratum (English or Chinese), code-like columns within their domains, "
        "no tier wording in the plan columns, and the same table in UTF-8 and GB18030. "
        "公示文件不含风险分类、分值或分层。"
    ),
)
def export_carries_no_tier_score_or_stratum(
    context: dg.AssetCheckExecutionContext, zs_home: ZsRiskHome
) -> dg.AssetCheckResult:
    files = export_files.file_paths(zs_home.paths().exports, context.partition_key)
    problems, rows = export_rules.verify_files(files)
    return dg.AssetCheckResult(
        passed=not problems,
        metadata={"files": [str(p) for p in files.values()], "rows_read": rows, "problems": problems},
    )


@dg.asset_check(
    asset=INSPECTION_RESULTS,
    name="results_published_within_20_working_days",
    blocking=False,
    partitions_def=monthly,
    description=(
        "Warns when any result of the month was published after its deadline, the configured number of working "
        "days (20) after the result was formed, and lists them with the day the source entered them. Results are "
        "published on arrival, so each one listed was delivered late by its source (its file came on or after "
        "the deadline). 抽查检查结果应自形成之日起20个工作日内公示；随到随公示，超期即来源迟报。"
    ),
)
def results_published_within_20_working_days(
    context: dg.AssetCheckExecutionContext, warehouse: DuckDBResource
) -> dg.AssetCheckResult:
    with warehouse.get_connection() as conn:
        late = export.late_rows(conn, context.partition_key)
    header = "| task | uscc | inspected | deadline | recorded | published | batch | working days | calendar |\n"
    table = (
        header
        + "|---|---|---|---|---|---|---|---|---|\n"
        + "\n".join(
            f"| {t} | {u} | {i} | {d} | {r or ''} | {p} | {b} | {n} | {workdays.BASIS_ZH[c]} |"
            for t, u, i, d, r, p, b, n, c in late[:50]
        )
    )
    return dg.AssetCheckResult(
        passed=not late,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "late_rows": len(late),
            "late": dg.MetadataValue.md(table if late else "_none late_"),
            "listed": min(len(late), 50),
        },
    )
