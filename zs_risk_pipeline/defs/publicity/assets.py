"""Publicity group (一公开): the month's inspection results for the public, with publication deadlines."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from zs_risk_pipeline.defs.metadata import table_metadata
from zs_risk_pipeline.defs.partitions import monthly
from zs_risk_pipeline.defs.resources import ZsRiskHome
from zs_risk_pipeline.lib import publicity, workdays
from zs_risk_pipeline.lib.ingest import month_start

INSPECTION_RESULTS = dg.AssetKey(["publicity", "inspection_results"])


@dg.asset(
    key=INSPECTION_RESULTS,
    deps=[
        dg.AssetKey(["staging", "inspections"]),
        dg.AssetKey(["staging", "plans"]),
        dg.AssetKey(["staging", "registry"]),
    ],
    group_name="publicity",
    partitions_def=monthly,
    kinds={"duckdb", "csv"},
    owners=["team:risk-data"],
    pool="duckdb",
    tags={"layer": "export", "confidentiality": "public"},
    description=(
        "The inspection results delivered this month (double-random, triggered and special) as the public "
        "sees them: enterprise, plan, authority, date and result, with the deadline of the 20th working day "
        "after the result was formed (statutory holidays and make-up days) and a late flag against the "
        "publication day. Written aside, checked for tiers, scores and strata, then published to "
        "$ZS_RISK_HOME/exports/publicity/<YYYY-MM>/ in UTF-8 (BOM) and GB18030, and kept in "
        "publicity.inspection_results. 一公开：抽查检查结果公示（20个工作日内公示，超期标记，不含风险分类）。"
    ),
)
def inspection_results(
    context: dg.AssetExecutionContext, warehouse: DuckDBResource, zs_home: ZsRiskHome
) -> dg.MaterializeResult:
    month = context.partition_key
    with warehouse.get_connection() as conn:
        try:
            out = publicity.export_month(conn, month, zs_home.paths().exports)
        except publicity.ExportRefused as e:
            raise dg.Failure(description=str(e)) from None
        md = table_metadata(conn, "publicity", "inspection_results", month_start(month), "month")
    late = "| task | inspected | deadline | working days taken |\n|---|---|---|---|\n" + "\n".join(
        f"| {r['task_id']} | {r['inspected_on']} | {r['deadline']} | {r['working_days_taken']} |"
        for r in out.late_examples
    )
    return dg.MaterializeResult(
        metadata={
            **md,
            "late_rows": out.late,
            "late_examples": dg.MetadataValue.md(late if out.late_examples else "_none late_"),
            "published_on": str(out.published_on),
            "deadline_working_days": out.deadline_working_days,
            "files_sha256": out.files,
            "encodings": dict(publicity.ENCODING_NAMES),
            "calendar_basis_by_year": out.calendar_basis_by_year,
            "rows_by_deadline_basis": out.rows_by_basis,
            "publication_day_basis": out.publication_basis,
            "calendar_years_ignored_in_config": out.configured_years_ignored,
            "departments_unmapped": out.departments_unmapped,
            "names_missing": out.names_missing,
            "folder": dg.MetadataValue.path(str(publicity.folder_of(zs_home.paths().exports, month))),
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
    files = publicity.file_paths(zs_home.paths().exports, context.partition_key)
    problems, rows = publicity.verify_files(files)
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
        "Warns when any result of the month is published after its deadline, the configured number of working "
        "days (20) after the result was formed, and lists them. 抽查检查结果应自形成之日起20个工作日内公示。"
    ),
)
def results_published_within_20_working_days(
    context: dg.AssetCheckExecutionContext, warehouse: DuckDBResource
) -> dg.AssetCheckResult:
    with warehouse.get_connection() as conn:
        late = publicity.late_rows(conn, context.partition_key)
    header = "| task | uscc | inspected | deadline | published | working days | calendar |\n"
    table = (
        header
        + "|---|---|---|---|---|---|---|\n"
        + "\n".join(
            f"| {t} | {u} | {i} | {d} | {p} | {n} | {workdays.BASIS_ZH[b]} |" for t, u, i, d, p, n, b in late[:50]
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
