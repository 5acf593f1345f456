"""Ingest group (数据接入): for each source of the landing contract, a raw and a staging asset per month.

raw/<source>      the month's landing files, row by row as read, with lineage (原始层)
staging/<source>  typed, normalised, de-duplicated rows; the rest in quarantine.rows (标准层 / 隔离区)

Each layer is one step for all sources (a subsettable multi-asset): every source stays its own asset with its own
materialisations, metadata and checks, and the UI can build one source alone, but a month does not pay Dagster's
fixed cost per step and the connection's preparation (macros, reference lists) 44 times over.
"""

from collections.abc import Iterator

import dagster as dg
from dagster_duckdb import DuckDBResource

from zs_risk_pipeline.defs.global_policy import POOL
from zs_risk_pipeline.defs.metadata import floats, table_metadata
from zs_risk_pipeline.defs.partitions import monthly
from zs_risk_pipeline.defs.resources import PiiKey, ZsRiskHome
from zs_risk_pipeline.lib.core.month import Month
from zs_risk_pipeline.lib.ingest import staging
from zs_risk_pipeline.lib.ingest.contract import Source, sources

GROUP = "ingest"
FILES_CHECK = "every_file_readable"
RECONCILIATION_CHECK = "raw_equals_staged_plus_quarantined"


def raw_key(src: Source) -> dg.AssetKey:
    return dg.AssetKey(["raw", src.name])


def staging_key(src: Source) -> dg.AssetKey:
    return dg.AssetKey(["staging", src.name])


def _file_table(files: list[staging.FileReport]) -> dg.MetadataValue:
    return dg.MetadataValue.md(
        "| file | status | rows | encoding | error |\n|---|---|---|---|---|\n"
        + "\n".join(
            f"| {f.file} | {f.status} | {f.rows_read} | {f.encoding or ''} | {f.error_message or ''} |" for f in files
        )
        if files
        else "_no files delivered this month_"
    )


def _reconciliation_table(rep: staging.DeliveryReport) -> dg.MetadataValue:
    return dg.MetadataValue.md(
        "| file | raw | staged | quarantined | balanced |\n|---|---|---|---|---|\n"
        + "\n".join(
            f"| {f.file} | {f.raw_rows} | {f.staged_rows} | {f.quarantined_rows} | {'yes' if f.balanced else 'NO'} |"
            for f in rep.files
        )
        if rep.files
        else "_no files delivered this month_"
    )


def raw_spec(src: Source) -> dg.AssetSpec:
    pii = [c.name for c in src.columns if c.type == "pii"]
    hashed = (
        f" Personal IDs ({', '.join(pii)}) are replaced by keyed hashes before anything is stored."
        "个人证件号在入库前以密钥哈希替换。"
        if pii
        else ""
    )
    return dg.AssetSpec(
        key=raw_key(src),
        group_name=GROUP,
        tags={"layer": "raw"},
        description=(
            f"Raw {src.name} ({src.title_zh}): every row of the month's landing files exactly as read, with "
            "source file, SHA-256, row number and landing time. "
            f"原始层：{src.title_zh}当月落地文件逐行原样入库，附来源文件、SHA-256、行号。{hashed}"
        ),
    )


def staging_spec(src: Source) -> dg.AssetSpec:
    return dg.AssetSpec(
        key=staging_key(src),
        deps=[raw_key(src)],
        group_name=GROUP,
        tags={"layer": "staging"},
        description=(
            f"Staging {src.name} ({src.title_zh}): typed, normalised (full-width, case, Chinese dates) and "
            "de-duplicated; rows that fail a rule go to quarantine.rows with a reason code and a message naming "
            f"file, row and column. {src.description} "
            f"标准层：{src.title_zh}，类型转换、规范化、去重；不合规的行进入隔离区，附原因代码及文件、行、列。"
        ),
    )


def _check_spec(name: str, asset: dg.AssetKey, blocking: bool, description: str) -> dg.AssetCheckSpec:
    # Evaluated per month, as its asset is.
    return dg.AssetCheckSpec(name=name, asset=asset, blocking=blocking, partitions_def=monthly, description=description)


def files_check_spec(src: Source) -> dg.AssetCheckSpec:
    return _check_spec(
        FILES_CHECK,
        raw_key(src),
        blocking=False,
        description=(
            "Warns when a landing file of the month was rejected whole (unreadable, missing column, already "
            "ingested this month or under another source); a source sending the same bytes as in an earlier month "
            "is an unchanged delivery, not a warning. 落地文件整体拒收时告警。"
        ),
    )


def reconciliation_check_spec(src: Source) -> dg.AssetCheckSpec:
    return _check_spec(
        RECONCILIATION_CHECK,
        staging_key(src),
        blocking=True,
        description=(
            "Per landing file, recounted from the tables after staging: rows read = rows in raw = rows staged + "
            "rows quarantined; nothing lost. 逐文件对账：读取行数 = 原始层行数 = 标准层行数 + 隔离行数。"
        ),
    )


def _selected(context: dg.AssetExecutionContext, key: dg.AssetKey, check: str) -> tuple[bool, bool]:
    """Whether this run builds the asset, and whether it evaluates the asset's check."""
    return key in context.selected_asset_keys, dg.AssetCheckKey(key, check) in context.selected_asset_check_keys


def _layer(name: str, specs: list[dg.AssetSpec], checks: list[dg.AssetCheckSpec], description: str):
    """One step building a layer's selected sources (any subset: the UI may build one), monthly, one DuckDB writer."""
    return dg.multi_asset(
        name=name,
        specs=specs,
        check_specs=checks,
        can_subset=True,
        partitions_def=monthly,
        pool=POOL,
        description=description,
    )


@_layer(
    "raw",
    [raw_spec(s) for s in sources().values()],
    [files_check_spec(s) for s in sources().values()],
    "Lands the month's files of every selected source (原始层落地).",
)
def raw_assets(
    context: dg.AssetExecutionContext, warehouse: DuckDBResource, zs_home: ZsRiskHome, pii: PiiKey
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    month = context.partition_key
    with warehouse.get_connection() as conn:
        staging.prepare(conn, pii.key_bytes(), reference=False)  # landing judges nothing
        for src in sources().values():
            build, check = _selected(context, raw_key(src), FILES_CHECK)
            if build:
                files = staging.land(conn, src.name, month, zs_home.paths().landing, progress=context.log.info)
                md = table_metadata(conn, "raw", src.name, Month.of(month).start, "_delivery_month")
                yield _raw_result(context, src, files, md)
            if check:
                yield _files_check(src, staging.files(conn, src.name, month))


def _raw_result(
    context: dg.AssetExecutionContext, src: Source, files: list[staging.FileReport], md: dict
) -> dg.MaterializeResult:
    problems = [f for f in files if f.problem]
    for f in problems:
        context.log.warning(f.error_message or f.file)
    for f in files:
        if f.status != "ingested" and not f.problem:
            context.log.info(f.error_message or f.file)
    return dg.MaterializeResult(
        asset_key=raw_key(src),
        metadata={
            **md,
            "files": _file_table(files),
            "files_ingested": sum(f.status == "ingested" for f in files),
            "files_repeated": sum(f.status != "ingested" and not f.problem for f in files),
            "files_rejected": len(problems),
            "rejected_files": [f"{f.error_code}: {f.error_message}" for f in problems],
        },
    )


def _files_check(src: Source, delivered: list[staging.FileReport]) -> dg.AssetCheckResult:
    bad = [f for f in delivered if f.problem]
    return dg.AssetCheckResult(
        asset_key=raw_key(src),
        check_name=FILES_CHECK,
        passed=not bad,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"files": len(delivered), "rejected_files": [f.error_message or f.file for f in bad]},
    )


@_layer(
    "staging",
    [staging_spec(s) for s in sources().values()],
    [reconciliation_check_spec(s) for s in sources().values()],
    "Stages the month's raw rows of every selected source (标准层).",
)
def staging_assets(
    context: dg.AssetExecutionContext, warehouse: DuckDBResource
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    month = context.partition_key
    with warehouse.get_connection() as conn:
        staging.prepare(conn)
        for src in sources().values():
            build, check = _selected(context, staging_key(src), RECONCILIATION_CHECK)
            if build:
                rep = staging.stage(conn, src.name, month)
                md = table_metadata(conn, "staging", src.name, Month.of(month).start, "_delivery_month")
                yield _staging_result(src, rep, md)
            if check:  # an independent recount from the tables, not the staging step's own figures
                yield _reconciliation_check(src, staging.report(conn, src.name, month))


def _staging_result(src: Source, rep: staging.DeliveryReport, md: dict) -> dg.MaterializeResult:
    return dg.MaterializeResult(
        asset_key=staging_key(src),
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
        },
    )


def _reconciliation_check(src: Source, rep: staging.DeliveryReport) -> dg.AssetCheckResult:
    off = [f for f in rep.files if not f.balanced]
    return dg.AssetCheckResult(
        asset_key=staging_key(src),
        check_name=RECONCILIATION_CHECK,
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
