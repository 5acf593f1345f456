"""Write, audit, publish (写入—审计—发布): how a table reaches the analysts' mart.

1. write: the pipeline writes a month of a table into its own warehouse (readers never open it);
2. audit: blocking checks run on that month; each result is recorded with the content fingerprint of
   exactly the rows it checked (audit.audits);
3. publish: only when every required check passed on the current fingerprint, the month is exported
   to a Parquet file under mart/ (written aside, then renamed into place: atomic), the mart catalogue
   file mart.duckdb is rebuilt aside and renamed over the old one, and the publish is appended to a
   hash-chained log. A reader holding mart.duckdb open keeps its file; the pipeline never needs its lock.
A failed check therefore leaves the previously published version in place.

Versions (发布版本): every publish of a table-month whose content changed is a new version (1, 2, …). Each version
keeps its own file under mart/versions/<table>/month=<YYYY-MM>/v<NNNN>.parquet, never overwritten, so a month that
a rerun re-publishes (late inspection results, a restated source) stays verifiable as it was first published; the
current version is also at mart/data/<table>/month=<YYYY-MM>/data.parquet, which the mart's views read. Publishing
unchanged content again adds nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet as pq

from zs_risk_pipeline.lib import policy
from zs_risk_pipeline.lib.contract import REFERENCE_DIR
from zs_risk_pipeline.lib.digest import sha256_file
from zs_risk_pipeline.lib.sql import render, run_sql

MART_FILE = "mart.duckdb"
GENESIS = "0" * 64


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
    policy: str  # the output of lib/policy.py whose policy files the content depends on
    policy_column: bool = False  # the table records its policy version per row (checked against the files)

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
}


def prepare(conn: duckdb.DuckDBPyConnection) -> None:
    run_sql(conn, "publish/setup.sql")
    if not run_sql(conn, "publish/log_has_versions.sql")[0][0]:
        # A log written before versions existed: its entries were hashed without a version, so rewriting them
        # would break the chain it exists to protect. Such a home is rebuilt, not migrated.
        raise PublishRefused(
            "audit.publish_log was written by an earlier release without published versions; rebuild this "
            "ZS_RISK_HOME (keep landing/, delete the rest) and run the months again"
        )


def month_date(month: str) -> dt.date:
    return dt.date.fromisoformat(month[:7] + "-01")


def fingerprint(conn: duckdb.DuckDBPyConnection, spec: MartTable, month: str) -> Fingerprint:
    ident = {"schema": spec.schema, "table": spec.table, "month_column": spec.month_column}
    rows, sha = run_sql(conn, "publish/fingerprint.sql", {"month": month_date(month)}, ident)[0]
    return Fingerprint(int(rows), sha)


def month_frame(conn: duckdb.DuckDBPyConnection, spec: MartTable, month: str | dt.date) -> pd.DataFrame:
    """One month of the table as the checks see it (empty when the month was never written)."""
    ident = {"schema": spec.schema, "table": spec.table, "month_column": spec.month_column}
    day = month if isinstance(month, dt.date) else month_date(month)
    return conn.sql(render("publish/month_rows.sql", ident), params={"month": day}).df()


def record_audit(
    conn: duckdb.DuckDBPyConnection,
    spec: MartTable,
    month: str,
    check_name: str,
    fp: Fingerprint,
    passed: bool,
    detail: dict,
    at: dt.datetime | None = None,
) -> None:
    run_sql(
        conn,
        "publish/record_audit.sql",
        {
            "table_name": spec.qualified,
            "month": month_date(month),
            "check_name": check_name,
            "fingerprint": fp.sha256,
            "rows": fp.rows,
            "passed": passed,
            "detail": json.dumps(detail, ensure_ascii=False, default=str),
            "checked_at": at or dt.datetime.now(dt.UTC).replace(tzinfo=None),
        },
    )


def _audit_problems(conn: duckdb.DuckDBPyConnection, spec: MartTable, month: str, fp: Fingerprint) -> list[str]:
    latest = {
        name: (sha, passed)
        for name, sha, passed, _rows, _at in run_sql(
            conn, "publish/latest_audits.sql", {"table_name": spec.qualified, "month": month_date(month)}
        )
    }
    problems = []
    for check in spec.required_checks:
        if check not in latest:
            problems.append(f"{check}: never ran on this month")
        elif latest[check][0] != fp.sha256:
            problems.append(f"{check}: checked other content than the rows now in {spec.qualified}")
        elif not latest[check][1]:
            problems.append(f"{check}: failed")
    return problems


def _latest_version(conn: duckdb.DuckDBPyConnection, spec: MartTable, month: str) -> tuple | None:
    rows = run_sql(conn, "publish/log_latest_version.sql", {"mart_table": spec.name, "month": month_date(month)})
    return rows[0] if rows else None


def _current_file(mart_dir: Path, spec: MartTable, month: str) -> Path:
    return mart_dir / "data" / spec.name / f"month={month[:7]}" / "data.parquet"


def _version_file(mart_dir: Path, spec: MartTable, month: str, version: int) -> Path:
    return mart_dir / "versions" / spec.name / f"month={month[:7]}" / f"v{version:04d}.parquet"


def _place(source: Path, target: Path) -> None:
    """Put `source`'s bytes at `target` atomically (a hard link where the file system allows, else a copy)."""
    tmp = target.parent / f".{target.name}.{uuid.uuid4().hex}.tmp"
    try:
        os.link(source, tmp)
    except OSError:
        shutil.copyfile(source, tmp)
    os.replace(tmp, target)


def publish_month(
    conn: duckdb.DuckDBPyConnection, spec: MartTable, month: str, mart_dir: Path, at: dt.datetime | None = None
) -> PublishResult:
    """Publish one audited month of a table to the mart as a new version, or raise PublishRefused and change
    nothing. Content identical to the current version is not published again (no new version, no new entry)."""
    prepare(conn)
    fp = fingerprint(conn, spec, month)
    problems = _audit_problems(conn, spec, month, fp)
    if problems:
        raise PublishRefused(
            f"{spec.qualified} {month[:7]} is not published; the mart keeps its previous version: "
            + "; ".join(problems)
        )
    current = _current_file(mart_dir, spec, month)
    latest = _latest_version(conn, spec, month)
    context = entry_context(conn, spec, month, latest[5] if latest else None)
    if latest is not None:
        version, file, file_sha, fp_sha, entry_hash, recorded = latest
        kept = mart_dir / file
        if fp_sha == fp.sha256 and kept.exists() and sha256_file(kept) == file_sha:
            if not current.exists() or sha256_file(current) != file_sha:
                _place(kept, current)  # a lost or stale current file is restored from its version
                build_catalog(mart_dir)
            was = json.loads(recorded) if recorded else {}
            return PublishResult(spec.name, month[:7], current, file_sha, fp.rows, entry_hash, version, kept, True, was)
    version = (latest[0] if latest else 0) + 1
    target = _version_file(mart_dir, spec, month, version)
    if target.exists():
        # A version file the log does not know (a publish interrupted before its log entry): never overwrite
        # a file that may have been read; publishing resumes after the operator looks at it.
        raise PublishRefused(f"{target} exists but the publish log has no version {version} of {spec.name} {month[:7]}")
    target.parent.mkdir(parents=True, exist_ok=True)
    current.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.name}.{uuid.uuid4().hex}.tmp"
    ident = {"schema": spec.schema, "table": spec.table, "month_column": spec.month_column}
    table = conn.sql(render("publish/export_month.sql", ident), params={"month": month_date(month)}).to_arrow_table()
    if table.num_rows != fp.rows:
        raise PublishRefused(f"{spec.qualified} {month[:7]} changed while being published")
    # pyarrow's writer with fixed options: the same rows give the same bytes.
    pq.write_table(table, tmp, compression="zstd", compression_level=3, write_statistics=True)
    file_sha = sha256_file(tmp)
    os.replace(tmp, target)
    _place(target, current)
    build_catalog(mart_dir)
    entry = _append_log(conn, spec, month, version, target.relative_to(mart_dir).as_posix(), file_sha, fp, at, context)
    return PublishResult(spec.name, month[:7], current, file_sha, fp.rows, entry, version, target, False, context)


def entry_context(conn: duckdb.DuckDBPyConnection, spec: MartTable, month: str, previous: str | None) -> dict:
    """What a new version's log entry records beside its content: the policy version and files it was computed
    with (refused when the rows say another policy than the files now), which policy files changed since the
    previous version, and the operator's release of a month whose expected sources had not delivered."""
    version = policy.current(spec.policy)
    if spec.policy_column:
        ident = {"schema": spec.schema, "table": spec.table, "month_column": spec.month_column}
        found = [v for (v,) in run_sql(conn, "publish/policy_versions.sql", {"month": month_date(month)}, ident)]
        if found and found != [version.version]:  # a month without rows carries no version
            raise PublishRefused(
                f"{spec.qualified} {month[:7]} was computed under policy version {', '.join(map(str, found))}, the "
                f"policy files now are version {version.version}: rerun the month before it is published"
            )
    context: dict = {"policy": version.as_json()}
    before = json.loads(previous).get("policy", {}).get("files") if previous else None
    changed = policy.changed_files(before, version.files)
    if changed:
        context["policy_changed"] = changed
    released = run_sql(conn, "publish/month_release.sql", {"month": month_date(month)})
    if released:
        missing, reason, at = released[0]
        context["release"] = {"missing": json.loads(missing), "reason": reason, "released_at": str(at)}
    return context


def _entry_dict(
    seq: int,
    table: str,
    month: str,
    version: int,
    file: str,
    file_sha: str,
    rows: int,
    fp: str,
    at: dt.datetime,
    prev: str,
    context: str | None = None,
) -> dict:
    """The fields an entry's hash covers (the same for writing and for verifying). `context` is the entry's JSON
    text; entries written before contexts existed have none and are hashed without the key."""
    extra = {"context": context} if context is not None else {}
    return {
        **extra,
        "seq": seq,
        "mart_table": table,
        "month": month,
        "version": version,
        "file": file,
        "file_sha256": file_sha,
        "rows": rows,
        "fingerprint": fp,
        "published_at": at.isoformat(),
        "prev_hash": prev,
    }


def _entry_hash(entry: dict) -> str:
    return hashlib.sha256(json.dumps(entry, sort_keys=True).encode("utf-8")).hexdigest()


def _append_log(
    conn: duckdb.DuckDBPyConnection,
    spec: MartTable,
    month: str,
    version: int,
    file: str,
    file_sha: str,
    fp: Fingerprint,
    at: dt.datetime | None,
    context: dict,
) -> str:
    tail = run_sql(conn, "publish/log_tail.sql")
    seq, prev = (tail[0][0] + 1, tail[0][1]) if tail else (1, GENESIS)
    when = at or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    text = json.dumps(context, sort_keys=True, ensure_ascii=False)
    entry = _entry_dict(seq, spec.name, month[:7], version, file, file_sha, fp.rows, fp.sha256, when, prev, text)
    entry_hash = _entry_hash(entry)
    run_sql(
        conn,
        "publish/log_append.sql",
        {**entry, "month": month_date(month), "published_at": when, "entry_hash": entry_hash},
    )
    return entry_hash


def build_catalog(mart_dir: Path) -> Path:
    """Rebuild mart.duckdb (views over the published Parquet files, documented) aside and swap it in."""
    mart_dir.mkdir(parents=True, exist_ok=True)
    tmp = mart_dir / f".{MART_FILE}.{uuid.uuid4().hex}.tmp"
    with duckdb.connect(str(tmp)) as conn:
        for spec in MART_TABLES.values():
            files = sorted((mart_dir / "data" / spec.name).glob("month=*/data.parquet"))
            if not files:
                continue  # nothing published yet: no view (a view over no files cannot be created)
            run_sql(
                conn,
                "publish/mart_view.sql",
                identifiers={"name": spec.name},
                literals={
                    "files": str((mart_dir / "data" / spec.name).resolve()) + "/month=*/data.parquet",
                    "comment": spec.description,
                },
            )
            run_sql(
                conn,
                "publish/mart_versions_view.sql",
                identifiers={"name": f"{spec.name}_versions"},
                literals={
                    "files": str((mart_dir / "versions" / spec.name).resolve()) + "/month=*/v*.parquet",
                    "comment": f"Every published version of {spec.name}, current and superseded "
                    f"(发布版本历史); the current version is the view {spec.name}",
                },
            )
        run_sql(conn, "publish/mart_indicators.sql", {"path": str(REFERENCE_DIR / "indicators.csv")})
        conn.execute("CHECKPOINT")
    os.replace(tmp, mart_dir / MART_FILE)
    return mart_dir / MART_FILE


def verify(conn: duckdb.DuckDBPyConnection, mart_dir: Path) -> list[str]:
    """Re-compute the publish log's hash chain, the hash of every version's file (superseded versions stay
    verifiable) and of every current file (it must be the latest version of its month).

    Returns the problems found (empty: intact).
    """
    problems: list[str] = []
    prev = GENESIS
    current: dict[tuple[str, str], tuple[int, int, str]] = {}
    for seq, table, month, version, file, file_sha, rows, fp, at, prev_hash, entry_hash, context in run_sql(
        conn, "publish/log_all.sql"
    ):
        entry = _entry_dict(seq, table, month, version, file, file_sha, rows, fp, at, prev_hash, context)
        if prev_hash != prev:
            problems.append(f"publish log entry {seq}: chain broken (previous hash does not match entry {seq - 1})")
        if _entry_hash(entry) != entry_hash:
            problems.append(f"publish log entry {seq}: entry altered ({table} {month})")
        prev = entry_hash
        path = mart_dir / file
        if not path.exists():
            problems.append(f"{file}: version {version} published in entry {seq} but missing from the mart")
        elif sha256_file(path) != file_sha:
            problems.append(f"{file}: content differs from what entry {seq} published (version {version})")
        current[(table, month)] = (seq, version, file_sha)
    for (table, month), (seq, version, sha) in sorted(current.items()):
        path = mart_dir / "data" / table / f"month={month}" / "data.parquet"
        rel = path.relative_to(mart_dir).as_posix()
        if not path.exists():
            problems.append(f"{rel}: current version {version} (entry {seq}) missing from the mart")
        elif sha256_file(path) != sha:
            problems.append(f"{rel}: content differs from version {version}, the current one (entry {seq})")
    return problems
