"""Ingest group (数据接入): for each source of the landing contract, a raw and a staging asset per month.

raw/<source>      the month's landing files, row by row as read, with lineage (原始层)
staging/<source>  typed, normalised, de-duplicated rows; the rest in quarantine.rows (标准层 / 隔离区)
"""

import dagster as dg
from dagster_duckdb import DuckDBResource

from zs_risk_pipeline.defs.metadata import floats, table_metadata
from zs_risk_pipeline.defs.partitions import monthly
from zs_risk_pipeline.defs.resources import PiiKey, ZsRiskHome
from zs_risk_pipeline.lib import ingest
from zs_risk_pipeline.lib.contract import Source, sources

GROUP = "ingest"
OWNERS = ["team:risk-data"]


def _file_table(files: list[ingest.FileReport]) -> dg.MetadataValue:
    return dg.MetadataValue.md(
        "| file | status | rows | encoding | error |\n|---|---|---|---|---|\n"
        + "\n".join(
            f"| {f.file} | {f.status} | {f.rows_read} | {f.encoding or ''} | {f.error_message or ''} |" for f in files
        )
        if files
        else "_no files delivered this month_"
    )


def _reconciliation_table(rep: ingest.DeliveryReport) -> dg.MetadataValue:
    return dg.MetadataValue.md(
        "| file | raw | staged | quarantined | balanced |\n|---|---|---|---|---|\n"
        + "\n".join(
            f"| {f.file} | {f.raw_rows} | {f.staged_rows} | {f.quarantined_rows} | {'yes' if f.balanced else 'NO'} |"
            for f in rep.files
        )
        if rep.files
        else "_no files delivered this month_"
    )


def build_raw_asset(src: Source) -> dg.AssetsDefinition:
    pii = [c.name for c in src.columns if c.type == "pii"]
    hashed = (
        f" Personal IDs ({', '.join(pii)}) are replaced by keyed hashes before anything is stored."
        "个人证件号在入库前以密钥哈希替换。"
        if pii
        else ""
    )

    @dg.asset(
        key=["raw", src.name],
        group_name=GROUP,
        partitions_def=monthly,
        kinds={"duckdb"},
        owners=OWNERS,
        pool="duckdb",
        tags={"layer": "raw"},
        description=(
            f"Raw {src.name} ({src.title_zh}): every row of the month's landing files exactly as read, with "
            "source file, SHA-256, row number and landing time. "
            f"原始层：{src.title_zh}当月落地文件逐行原样入库，附来源文件、SHA-256、行号。{hashed}"
        ),
    )
    def _raw(
        context: dg.AssetExecutionContext, warehouse: DuckDBResource, zs_home: ZsRiskHome, pii: PiiKey
    ) -> dg.MaterializeResult:
        key = pii.key_bytes()
        with warehouse.get_connection() as conn:
            ingest.prepare(conn, key, reference=False)  # landing judges nothing
            files = ingest.land(
                conn, src.name, context.partition_key, zs_home.paths().landing, progress=context.log.info
            )
            md = table_metadata(conn, "raw", src.name, ingest.month_start(context.partition_key), "_delivery_month")
        problems = [f for f in files if f.problem]
        for f in problems:
            context.log.warning(f.error_message or f.file)
        for f in files:
            if f.status != "ingested" and not f.problem:
                context.log.info(f.error_message or f.file)
        return dg.MaterializeResult(
            metadata={
                **md,
                "files": _file_table(files),
                "files_ingested": sum(f.status == "ingested" for f in files),
                "files_repeated": sum(f.status != "ingested" and not f.problem for f in files),
                "files_rejected": len(problems),
                "rejected_files": [f"{f.error_code}: {f.error_message}" for f in problems],
            }
        )

    return _raw


def build_staging_asset(src: Source) -> dg.AssetsDefinition:
    @dg.asset(
        key=["staging", src.name],
        deps=[dg.AssetKey(["raw", src.name])],
        group_name=GROUP,
        partitions_def=monthly,
        kinds={"duckdb"},
        owners=OWNERS,
        pool="duckdb",
        tags={"layer": "staging"},
        description=(
            f"Staging {src.name} ({src.title_zh}): typed, normalised (full-width, case, Chinese dates) and "
            "de-duplicated; rows that fail a rule go to quarantine.rows with a reason code and a message naming "
            f"file, row and column. {src.description} "
            f"标准层：{src.title_zh}，类型转换、规范化、去重；不合规的行进入隔离区，附原因代码及文件、行、列。"
        ),
    )
    def _staging(context: dg.AssetExecutionContext, warehouse: DuckDBResource) -> dg.MaterializeResult:
        with warehouse.get_connection() as conn:
            ingest.prepare(conn)
            rep = ingest.stage(conn, src.name, context.partition_key)
            md = table_metadata(conn, "staging", src.name, ingest.month_start(context.partition_key), "_delivery_month")
        return dg.MaterializeResult(
            metadata={
                **md,
                "raw_rows": rep.raw_rows,
                "staged_rows": rep.staged_rows,
                "reconciliation": _reconciliation_table(rep),
                "quarantined_rows": rep.quarantined_rows,
                # Plotted across months; undefined (left out) for a month that delivered no rows.
                **floats({"quarantined_share": rep.quarantined_rows / rep.raw_rows if rep.raw_rows else None}),
                "quarantine_by_reason": dg.MetadataValue.md(
                    "| reason | column | rows | example |\n|---|---|---|---|\n"
                    + "\n".join(
                        f"| {q['reason_code']} | {q['column']} | {q['rows']} | {q['example']} |" for q in rep.quarantine
                    )
                    if rep.quarantine
                    else "_nothing quarantined_"
                ),
            }
        )

    return _staging


def build_reconciliation_check(src: Source) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=dg.AssetKey(["staging", src.name]),
        name="raw_equals_staged_plus_quarantined",
        blocking=True,
        partitions_def=monthly,
        description=(
            "Per landing file: rows read = rows in raw = rows staged + rows quarantined; nothing lost. "
            "逐文件对账：读取行数 = 原始层行数 = 标准层行数 + 隔离行数。"
        ),
    )
    def _check(context: dg.AssetCheckExecutionContext, warehouse: DuckDBResource) -> dg.AssetCheckResult:
        with warehouse.get_connection() as conn:
            ingest.prepare_tables(conn)
            rep = ingest.report(conn, src.name, context.partition_key)
        off = [f for f in rep.files if not f.balanced]
        return dg.AssetCheckResult(
            passed=not off,
            metadata={
                "files": len(rep.files),
                "raw_rows": rep.raw_rows,
                "staged_rows": rep.staged_rows,
                "reconciliation": _reconciliation_table(rep),
                "quarantined_rows": rep.quarantined_rows,
                "unbalanced_files": [
                    f"{f.file}: read {f.rows_read}, raw {f.raw_rows}, staged {f.staged_rows}, "
                    f"quarantined {f.quarantined_rows}"
                    for f in off
                ],
            },
        )

    return _check


def build_files_check(src: Source) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=dg.AssetKey(["raw", src.name]),
        name="every_file_readable",
        blocking=False,
        partitions_def=monthly,
        description=(
            "Warns when a landing file of the month was rejected whole (unreadable, missing column, already "
            "ingested this month or under another source); a source sending the same bytes as in an earlier month "
            "is an unchanged delivery, not a warning. 落地文件整体拒收时告警。"
        ),
    )
    def _check(context: dg.AssetCheckExecutionContext, warehouse: DuckDBResource) -> dg.AssetCheckResult:
        with warehouse.get_connection() as conn:
            ingest.prepare_tables(conn)
            delivered = ingest.files(conn, src.name, context.partition_key)
        bad = [f for f in delivered if f.problem]
        return dg.AssetCheckResult(
            passed=not bad,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={"files": len(delivered), "rejected_files": [f.error_message or f.file for f in bad]},
        )

    return _check


raw_assets = [build_raw_asset(s) for s in sources().values()]
staging_assets = [build_staging_asset(s) for s in sources().values()]
reconciliation_checks = [build_reconciliation_check(s) for s in sources().values()]
file_checks = [build_files_check(s) for s in sources().values()]
