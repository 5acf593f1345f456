"""Write, audit, publish (写入—审计—发布): how a table reaches the analysts' mart.

1. write: the pipeline writes a month of a table into its own warehouse (readers never open it);
2. audit: blocking checks run on that month; each result is recorded with the content fingerprint of
   exactly the rows it checked (audit.audits);
3. publish: only when every required check passed on the current fingerprint, the month is exported
   to a Parquet file written aside (a hidden name no view reads), the publish is appended to the hash-chained
   log with its Ed25519 signature (lib/evidence/signing.py), and only then is the file renamed into place, made
   current, the mart catalogue file mart.duckdb rebuilt aside and renamed over the old one when what it is built
   from changed (a table's first month, a new column, the home moved: `catalog_key`), and the log's new head
   signed onto evidence/heads.jsonl. A reader holding mart.duckdb open keeps its file; the pipeline never
   needs its lock. A failed check therefore leaves the previously published version in place.

Crash safety (断点恢复): the log vouches for everything readers can see, because a version is logged before it
becomes visible. A publish killed at any instant leaves at most: a hidden file written aside (removed, or
renamed into place when it holds the logged bytes of a version whose file is missing), a logged version not yet
in place (restored from that file or rewritten from the warehouse, bytes checked against the log), a stale
current file or catalogue (restored), an unsigned head (signed). The next publish of the month does this by
itself and says what it found (`PublishResult.recovered`). A version file that the log does not know (written by
an earlier release before its entry) is adopted when it holds exactly the bytes the log entry will vouch for,
else removed.

Versions (发布版本): every publish of a table-month whose content changed is a new version (1, 2, …). Each version
keeps its own file under mart/versions/<table>/month=<YYYY-MM>/v<NNNN>.parquet, never overwritten, so a month that
a rerun re-publishes (late inspection results, a restated source) stays verifiable as it was first published; the
current version is also at mart/data/<table>/month=<YYYY-MM>/data.parquet, which the mart's views read. Publishing
unchanged content again adds nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import hashlib
import importlib.metadata
import json
import os
import re
import shutil
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow.parquet as pq

from zs_risk_pipeline.lib.core import faults
from zs_risk_pipeline.lib.core.digest import sha256_file
from zs_risk_pipeline.lib.core.sql import SQL_DIR, render, run_sql
from zs_risk_pipeline.lib.evidence import signing
from zs_risk_pipeline.lib.features import enterprise_monthly
from zs_risk_pipeline.lib.ingest.contract import REFERENCE_DIR
from zs_risk_pipeline.lib.ingest.staging import CONFIG_DIR
from zs_risk_pipeline.lib.model.registry import Registry, RegistryError
from zs_risk_pipeline.lib.policy import versions as policy_versions

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


def heads_file(mart_dir: Path) -> Path:
    return Path(mart_dir).parent / EVIDENCE_DIR / signing.HEADS_FILE


def _export(conn: duckdb.DuckDBPyConnection, spec: MartTable, month: str, fp: Fingerprint, path: Path) -> str:
    """Write the month's rows as Parquet to `path` (durably) and return the file's SHA-256."""
    ident = {"schema": spec.schema, "table": spec.table, "month_column": spec.month_column}
    table = conn.sql(render("publish/export_month.sql", ident), params={"month": month_date(month)}).to_arrow_table()
    if table.num_rows != fp.rows:
        raise PublishRefused(f"{spec.qualified} {month[:7]} changed while being published")
    # pyarrow's writer with fixed options: the same rows give the same bytes.
    pq.write_table(table, path, compression="zstd", compression_level=3, write_statistics=True)
    with path.open("rb") as f:
        os.fsync(f.fileno())
    return sha256_file(path)


def _sweep(folder: Path, keep: dict[str, Path], mart_dir: Path) -> list[str]:
    """Hidden files an interrupted publish left in `folder`: a file holding a wanted SHA-256 (`keep`: sha →
    target) is renamed to its target, every other one removed. Returns what was done, for the run's metadata."""
    done: list[str] = []
    for tmp in sorted(folder.glob(".*.tmp*")) if folder.is_dir() else []:  # DuckDB adds .tmp.wal
        rel = tmp.relative_to(mart_dir).as_posix()
        sha = sha256_file(tmp) if keep else None
        if sha in keep and not keep[sha].exists():
            os.replace(tmp, keep[sha])
            done.append(f"{rel}: adopted as {keep[sha].relative_to(mart_dir).as_posix()} (bytes of the logged version)")
        else:
            tmp.unlink()
            done.append(f"{rel}: removed (left by an interrupted publish, never visible to readers)")
    return done


def publish_month(
    conn: duckdb.DuckDBPyConnection,
    spec: MartTable,
    month: str,
    mart_dir: Path,
    at: dt.datetime | None = None,
    signer: signing.Signer | None = None,
) -> PublishResult:
    """Publish one audited month of a table to the mart as a new version, or raise PublishRefused and change
    nothing readers see. Content identical to the current version is not published again (no new version, no
    new entry); whatever an interrupted earlier publish left is recovered first (see the module docstring)."""
    signer = signer or signing.signer_from_env()
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
    versions = _version_file(mart_dir, spec, month, 1).parent
    versions.mkdir(parents=True, exist_ok=True)
    current.parent.mkdir(parents=True, exist_ok=True)
    wanted = {latest[2]: mart_dir / latest[1]} if latest else {}
    recovered = _sweep(versions, wanted, mart_dir) + _sweep(current.parent, {}, mart_dir)
    if latest is not None:
        version, file, file_sha, fp_sha, entry_hash, recorded = latest
        kept = mart_dir / file
        if not kept.exists() and fp_sha == fp.sha256:
            # Logged, then killed before the rename, and the file aside was lost: the same rows give the same bytes.
            tmp = kept.parent / f".{kept.name}.{uuid.uuid4().hex}.tmp"
            if _export(conn, spec, month, fp, tmp) != file_sha:
                tmp.unlink()
                raise PublishRefused(
                    f"{file}: logged version {version} is missing and cannot be rewritten byte for byte"
                )
            os.replace(tmp, kept)
            recovered.append(f"{file}: logged version {version} was not in place; rewritten from the warehouse")
        if fp_sha == fp.sha256 and kept.exists() and sha256_file(kept) == file_sha:
            if not current.exists() or sha256_file(current) != file_sha:
                _place(kept, current)  # a lost or stale current file is restored from its version
                recovered.append(f"{current.relative_to(mart_dir).as_posix()}: made current (version {version})")
            recovered += _settle(conn, mart_dir, signer)
            was = json.loads(recorded) if recorded else {}
            return PublishResult(
                spec.name, month[:7], current, file_sha, fp.rows, entry_hash, version, kept, True, was, tuple(recovered)
            )
    context = entry_context(conn, spec, month, latest[5] if latest else None, mart_dir)
    version = (latest[0] if latest else 0) + 1
    target = _version_file(mart_dir, spec, month, version)
    tmp = target.parent / f".{target.name}.{uuid.uuid4().hex}.tmp"
    file_sha = _export(conn, spec, month, fp, tmp)
    if target.exists():
        # A version file the log does not know: readers of the versions view may have seen it. Kept only when it
        # is exactly what this entry vouches for; anything else is not the pipeline's and goes.
        rel = target.relative_to(mart_dir).as_posix()
        if sha256_file(target) == file_sha:
            recovered.append(f"{rel}: unlogged file adopted as version {version} (the same bytes as this publish)")
        else:
            target.unlink()
            recovered.append(f"{rel}: unlogged file with other content removed")
    faults.crash_point("publish:written")
    entry = _append_log(
        conn, spec, month, version, target.relative_to(mart_dir).as_posix(), file_sha, fp, at, context, signer
    )
    faults.crash_point("publish:logged")
    if target.exists():
        tmp.unlink()
    else:
        os.replace(tmp, target)
    faults.crash_point("publish:placed")
    _place(target, current)
    faults.crash_point("publish:current")
    recovered += _settle(conn, mart_dir, signer, rebuild=True)
    return PublishResult(
        spec.name, month[:7], current, file_sha, fp.rows, entry, version, target, False, context, tuple(recovered)
    )


def _settle(
    conn: duckdb.DuckDBPyConnection, mart_dir: Path, signer: signing.Signer, rebuild: bool = False
) -> list[str]:
    """The end of every publish: stale catalogues aside removed, the catalogue as the code builds it, the log's
    head signed. A publish that added a file (`rebuild`) rebuilds the catalogue unless the one in place was built
    from the same inputs (catalog_key): its views read every month's files by pattern, so a new month of a table
    whose view exists, in the same schema, changes nothing in it."""
    done = _sweep(mart_dir, {}, mart_dir)
    if rebuild:
        if _built_key(mart_dir) != catalog_key(mart_dir):
            build_catalog(mart_dir)
    elif catalog_problems(mart_dir, reuse=True):
        done.append(f"{MART_FILE}: rebuilt (it was missing or not as the code builds it)")
        build_catalog(mart_dir)
    faults.crash_point("publish:catalog")
    tail = run_sql(conn, "publish/log_tail.sql")
    if tail:
        head = signing.append_head(heads_file(mart_dir), signer, int(tail[0][0]), tail[0][1])
        if head is not None and not rebuild:
            done.append(f"{signing.HEADS_FILE}: head {tail[0][0]} signed (an earlier publish stopped before it)")
    return done


def code_version() -> dict[str, str]:
    """The code that computed a version: the package's release and the SHA-256 over its Python and SQL sources
    (names and bytes), so two installs of the same release with other code are told apart."""
    return {"release": _release(), "source_sha256": _source_sha256()}


@functools.cache
def _release() -> str:
    try:
        return importlib.metadata.version("zs-risk")
    except importlib.metadata.PackageNotFoundError:
        return "unreleased"


@functools.cache
def _source_sha256() -> str:
    package = Path(__file__).resolve().parents[2]
    files = sorted([*package.rglob("*.py"), *SQL_DIR.rglob("*.sql")])
    h = hashlib.sha256()
    for f in files:
        # SQL files are named sql/... whether they sit beside the package (checkout) or inside it (installed).
        root = SQL_DIR.parent if f.is_relative_to(SQL_DIR) else package.parent
        h.update(f.relative_to(root).as_posix().encode("utf-8") + b"\0" + sha256_file(f).encode("ascii") + b"\n")
    return h.hexdigest()


def config_sha256() -> str:
    """SHA-256 over every operator policy file of the policy folder in use ($ZS_RISK_CONFIG or the shipped
    config/) by canonical content (lib/policy/versions.py file_hash)."""
    files = {f"config/{p.name}": policy_versions.file_hash(p) for p in sorted(CONFIG_DIR.glob("*.yaml"))}
    text = "".join(f"{name}:{sha}\n" for name, sha in sorted(files.items()))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _models(conn: duckdb.DuckDBPyConnection, spec: MartTable, month: str, mart_dir: Path) -> dict[str, str | None]:
    """The models that computed the month's rows and the SHA-256 of each model file in the registry (a scorecard
    version carries its own config hash in its name)."""
    if spec.model_column is None:
        return {}
    ident = {
        "schema": spec.schema,
        "table": spec.table,
        "month_column": spec.month_column,
        "model_column": spec.model_column,
    }
    found = [v for (v,) in run_sql(conn, "publish/model_versions.sql", {"month": month_date(month)}, ident)]
    registry = Registry(Path(mart_dir).parent / "models")
    out: dict[str, str | None] = {}
    for v in found:
        try:
            out[v] = registry.entry(v).get("sha256")
        except RegistryError:
            out[v] = None  # a scorecard version: no model file
    return out


def entry_context(
    conn: duckdb.DuckDBPyConnection, spec: MartTable, month: str, previous: str | None, mart_dir: Path
) -> dict:
    """What a new version's log entry records beside its content: the policy version and files it was computed
    with (refused when the rows say another policy than the files now), which policy files changed since the
    previous version, the operator's release of a month whose expected sources had not delivered, the model(s)
    with their file hashes, the hash of all config files, and the code version (design.md §5)."""
    version = policy_versions.current(spec.policy)
    if spec.policy_column:
        ident = {"schema": spec.schema, "table": spec.table, "month_column": spec.month_column}
        found = [v for (v,) in run_sql(conn, "publish/policy_versions.sql", {"month": month_date(month)}, ident)]
        if found and found != [version.version]:  # a month without rows carries no version
            raise PublishRefused(
                f"{spec.qualified} {month[:7]} was computed under policy version {', '.join(map(str, found))}, the "
                f"policy files now are version {version.version}: rerun the month before it is published"
            )
    context: dict = {
        "policy": version.as_json(),
        "config_sha256": config_sha256(),
        "code": code_version(),
        "models": _models(conn, spec, month, mart_dir),
    }
    before = json.loads(previous).get("policy", {}).get("files") if previous else None
    changed = policy_versions.changed_files(before, version.files)
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
    signer: signing.Signer,
) -> str:
    """Append the entry and its signature in one statement: an entry is never in the log unsigned."""
    tail = run_sql(conn, "publish/log_tail.sql")
    seq, prev = (tail[0][0] + 1, tail[0][1]) if tail else (1, GENESIS)
    when = at or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    text = json.dumps(context, sort_keys=True, ensure_ascii=False)
    entry = _entry_dict(seq, spec.name, month[:7], version, file, file_sha, fp.rows, fp.sha256, when, prev, text)
    entry_hash = _entry_hash(entry)
    run_sql(
        conn,
        "publish/log_append.sql",
        {
            **entry,
            "month": month_date(month),
            "published_at": when,
            "entry_hash": entry_hash,
            "signature": signing.sign_entry(signer, entry_hash),
            "key_id": signer.key_id,
        },
    )
    return entry_hash


# What build_catalog reads besides the published files' schemas: its SQL and the reference CSVs.
_CATALOG_SQL = (
    "publish/mart_guard.sql",
    "publish/mart_view.sql",
    "publish/mart_versions_view.sql",
    "publish/mart_indicators.sql",
    "publish/mart_reference.sql",
    "publish/mart_columns.sql",
    "publish/mart_comment_column.sql",
)


# The files a table's two views read, by pattern: its current months, and every version.
_CURRENT_FILES = "month=*/data.parquet"  # under mart/data/<table>/
_VERSION_FILES = "month=*/v*.parquet"  # under mart/versions/<table>/


def _catalog_files(mart_dir: Path, spec: MartTable) -> dict[str, list[Path]]:
    """The Parquet files each view of a table reads (current months; every version)."""
    return {
        spec.name: sorted((mart_dir / "data" / spec.name).glob(_CURRENT_FILES)),
        f"{spec.name}_versions": sorted((mart_dir / "versions" / spec.name).glob(_VERSION_FILES)),
    }


@functools.lru_cache(maxsize=4096)
def _parquet_schema(path: str, size: int, mtime_ns: int) -> str:
    """A file's Arrow schema (cached by path, size and modification time: a published file is never rewritten)."""
    try:
        return pq.read_schema(path).remove_metadata().to_string()
    except (OSError, ValueError) as e:  # ArrowInvalid is a ValueError; the catalogue build names the bad file
        return f"unreadable {path}: {e}"


def catalog_key(mart_dir: Path) -> str:
    """SHA-256 of everything the catalogue is built from: the home it guards, the DuckDB and storage versions, its
    SQL, the reference and column-documentation files, and per view the distinct schemas of the files it reads
    (a view reads them by name union, so its columns follow their schemas) with the columns' comments."""
    h = hashlib.sha256()

    def add(*parts: object) -> None:
        for part in parts:
            h.update(str(part).encode("utf-8") + b"\0")

    add(duckdb.__version__, MART_STORAGE_VERSION, json.dumps(_guard_literals(mart_dir), sort_keys=True))
    add(*(render(name) for name in _CATALOG_SQL))
    for name in ("indicators.csv", MART_COLUMNS_CSV, *(csv_name for csv_name, _ in REFERENCE_TABLES.values())):
        add(name, hashlib.sha256((REFERENCE_DIR / name).read_bytes()).hexdigest())
    for spec in MART_TABLES.values():
        for relation, files in _catalog_files(mart_dir, spec).items():
            schemas = sorted({_parquet_schema(str(f), st.st_size, st.st_mtime_ns) for f in files for st in [f.stat()]})
            add(relation, spec.description, len(schemas), *schemas)
            for schema in schemas:
                for line in schema.splitlines():
                    column = line.split(":", 1)[0]
                    add(column, column_comment(relation, column))
    return h.hexdigest()


def _built_key(mart_dir: Path) -> str | None:
    """The catalog_key the mart.duckdb in place was built with (the comment of its home guard), if it opens."""
    path = mart_dir / MART_FILE
    if not path.exists():
        return None
    try:
        with duckdb.connect(str(path), read_only=True) as conn:
            rows = run_sql(conn, "publish/catalog_key.sql")
    except duckdb.Error:
        return None  # unreadable: rebuilt
    return rows[0][0].removeprefix(_KEY_PREFIX) if rows and rows[0][0] else None


_KEY_PREFIX = "catalogue built from inputs with SHA-256 "


def build_catalog(mart_dir: Path, target: Path | None = None) -> Path:
    """Rebuild mart.duckdb (views over the published Parquet files, documented, guarded to this home; reference
    tables) aside and swap it in; with `target`, build the same catalogue there instead (what verify compares the
    mart's catalogue with): the guard always names mart_dir's own mart.duckdb, wherever the file is written."""
    mart_dir.mkdir(parents=True, exist_ok=True)
    tmp = mart_dir / f".{MART_FILE}.{uuid.uuid4().hex}.tmp" if target is None else target
    with duckdb.connect(str(tmp), config={"storage_compatibility_version": MART_STORAGE_VERSION}) as conn:
        run_sql(
            conn,
            "publish/mart_guard.sql",
            literals={**_guard_literals(mart_dir), "key": _KEY_PREFIX + catalog_key(mart_dir)},
        )
        for spec in MART_TABLES.values():
            if not _catalog_files(mart_dir, spec)[spec.name]:
                continue  # nothing published yet: no view (a view over no files cannot be created)
            run_sql(
                conn,
                "publish/mart_view.sql",
                identifiers={"name": spec.name},
                literals={
                    "files": f"{(mart_dir / 'data' / spec.name).resolve()}/{_CURRENT_FILES}",
                    "comment": spec.description,
                },
            )
            run_sql(
                conn,
                "publish/mart_versions_view.sql",
                identifiers={"name": f"{spec.name}_versions"},
                literals={
                    "files": f"{(mart_dir / 'versions' / spec.name).resolve()}/{_VERSION_FILES}",
                    "comment": f"Every published version of {spec.name}, current and superseded "
                    f"(发布版本历史); the current version is the view {spec.name}",
                },
            )
        run_sql(conn, "publish/mart_indicators.sql", {"path": str(REFERENCE_DIR / "indicators.csv")})
        for name, (csv_name, comment) in REFERENCE_TABLES.items():
            run_sql(
                conn,
                "publish/mart_reference.sql",
                {"path": str(REFERENCE_DIR / csv_name)},
                identifiers={"name": name},
                literals={"comment": comment},
            )
        conn.execute("BEGIN")  # one transaction: a commit per comment would cost more than the whole catalogue
        for relation, column, _comment in run_sql(conn, "publish/mart_columns.sql"):
            text = column_comment(relation, column)
            if text is not None:  # a column without one is what the documentation test names
                run_sql(
                    conn,
                    "publish/mart_comment_column.sql",
                    identifiers={"relation": relation, "column": column},
                    literals={"comment": text},
                )
        conn.execute("COMMIT")
        conn.execute("CHECKPOINT")
    if target is not None:
        return target
    os.replace(tmp, mart_dir / MART_FILE)
    return mart_dir / MART_FILE


def _guard_literals(mart_dir: Path) -> dict[str, str]:
    """What the home guard (mart_guard.sql) names: this mart.duckdb, as given and with links resolved."""
    path = (mart_dir / MART_FILE).absolute()
    return {
        "path": str(path),
        "resolved_path": str(path.resolve()),
        "message": (
            f"this {MART_FILE} was built for {path.parent}; the home was copied, moved or restored elsewhere, and "
            f"its views would read that home's files: run `zs-risk repoint --home <this home>` (or the next "
            "`zs-risk run`) to re-point it at this home's own files"
        ),
    }


@functools.cache
def _column_docs() -> dict[tuple[str, str], str]:
    """(relation or "", column) → "English description (中文名)", from reference/mart_columns.csv."""
    with (REFERENCE_DIR / MART_COLUMNS_CSV).open(encoding="utf-8", newline="") as f:
        return {(r["relation"], r["column"]): f"{r['description']} ({r['name_zh']})" for r in csv.DictReader(f)}


def column_comment(relation: str, column: str) -> str | None:
    """The comment of a mart column: the indicator catalogue for the features' indicators, else the relation's own
    entry in mart_columns.csv (a versions view documents its table's columns), else an entry for every relation."""
    base = relation.removesuffix("_versions")
    if base == "enterprise_features":
        found = enterprise_monthly.KEY_COMMENTS.get(column) or next(
            (i.comment for i in enterprise_monthly.indicators() if i.name == column), None
        )
        if found:
            return found
    docs = _column_docs()
    return docs.get((base, column)) or docs.get(("", column))


def _catalog_objects(path: Path) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as conn:
        objects = run_sql(conn, "publish/catalog_objects.sql")
        for name in ("indicators", *REFERENCE_TABLES):
            if any(o[:3] == ("table", "main", name) for o in objects):
                objects += [("row", *r) for r in run_sql(conn, "publish/catalog_rows.sql", identifiers={"name": name})]
        return objects


# The catalogue the code builds from each set of inputs (catalog_key), as built once in this process: a run's
# unchanged publishes compare the catalogue in place with it instead of building a scratch one every time.
_EXPECTED: dict[tuple[str, str], list[tuple]] = {}


def _expected_objects(mart_dir: Path, reuse: bool) -> list[tuple]:
    key = (str(mart_dir.resolve()), catalog_key(mart_dir)) if reuse else None
    if key in _EXPECTED:
        return _EXPECTED[key]
    scratch = Path(tempfile.mkdtemp(prefix="zs-risk-catalog-check-"))  # not in the home: verify only reads it
    try:
        objects = _catalog_objects(build_catalog(mart_dir, scratch / MART_FILE))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if key is not None:
        _EXPECTED[key] = objects
    return objects


def catalog_problems(mart_dir: Path, files_reported: bool = False, reuse: bool = False) -> list[str]:
    """How mart.duckdb differs from the catalogue the code builds over this home's published files: a view
    redefined (to hide rows, or to read other files), dropped or added, any other object, the indicators.

    `reuse`: compare with the catalogue this process already built from the same inputs (the publishes of a run);
    `verify` always builds it afresh."""
    path = mart_dir / MART_FILE
    if not path.exists():
        return [f"{MART_FILE} is missing"] if any((mart_dir / "data").glob(f"*/{_CURRENT_FILES}")) else []
    try:
        expected = _expected_objects(mart_dir, reuse)
    except duckdb.Error as e:
        if files_reported:  # a published file that cannot be read: the file checks name it
            return []
        return [f"{MART_FILE}: not compared, the catalogue cannot be built over the files now: {e}"]
    try:
        found = _catalog_objects(path)
    except duckdb.Error as e:
        return [f"{MART_FILE} cannot be opened: {e}"]
    problems = []
    want = {o[:3]: o for o in expected}
    have = {o[:3]: o for o in found}
    for key in sorted(set(want) | set(have), key=str):
        kind, schema, name = key
        if key not in have:
            problems.append(f"{MART_FILE}: {kind} {schema}.{name} is missing")
        elif key not in want:
            problems.append(f"{MART_FILE}: {kind} {schema}.{name} is not one the pipeline builds")
        elif want[key] != have[key]:
            problems.append(f"{MART_FILE}: {kind} {schema}.{name} {_how_it_differs(mart_dir, want[key], have[key])}")
    return problems


_GUARDS = re.compile(r"path IN \('((?:[^']|'')*)'")
_READS = re.compile(r"read_\w+\(\s*'((?:[^']|'')*)'|read_\w+\(\s*\[\s*'((?:[^']|'')*)'")


def _how_it_differs(mart_dir: Path, wanted: tuple, found: tuple) -> str:
    """Name the difference a reader cares about: files read outside this home's mart, or where the definition
    departs from the one the pipeline builds."""
    sql = str(found[3] or "")
    outside = sorted(
        {p for m in _READS.finditer(sql) for p in m.groups() if p and not p.startswith(str(mart_dir.resolve()) + "/")}
    )
    if outside:
        return (
            f"reads files outside this home's mart ({', '.join(outside[:2])}): redirected, or the home was copied "
            "or moved (its views refuse to read while they point elsewhere): run `zs-risk repoint` (or the next "
            "run) to rebuild the catalogue for this home"
        )
    built_for = _GUARDS.search(sql)
    if (
        found[:3] == ("macro", "main", "mart_home_guard")
        and built_for
        and built_for.group(1) != str((mart_dir / MART_FILE).absolute())
    ):
        return (
            f"names another home's {MART_FILE} ({built_for.group(1)}): the catalogue reads files outside this home's "
            "mart, so its views refuse; the home was copied or moved: run `zs-risk repoint` (or the next run)"
        )
    want, have = " ".join(str(wanted[3] or "").split()), " ".join(sql.split())
    if want == have:
        return "has another comment or content than the pipeline builds"
    at = next((i for i, (a, b) in enumerate(zip(want, have, strict=False)) if a != b), min(len(want), len(have)))
    shown = f"is not defined as the pipeline builds it: …{have[max(0, at - 40) : at + 80]}… (from character {at})"
    # The first difference can lie far from what was changed (the guard opens every view): show the last one too.
    same_end = next((i for i, (a, b) in enumerate(zip(want[::-1], have[::-1], strict=False)) if a != b), 0)
    end = len(have) - same_end
    return shown + (f", up to …{have[max(at + 80, end - 80) : end]}…" if end > at + 80 else "")


def verify(
    conn: duckdb.DuckDBPyConnection | None,
    mart_dir: Path,
    verifier: signing.Verifier | None = None,
    heads: Path | None = None,
    external_head: str | None = None,
    catalog: bool = True,
) -> list[str]:
    """Everything the publish log vouches for, checked with the public key only:

    - the hash chain, every entry's hash and Ed25519 signature (a fake or altered entry with recomputed hashes
      has no valid signature);
    - the signed heads (evidence/heads.jsonl): each verifies and is an entry of the log, and the log is not
      shorter than the last one (entries deleted, the log emptied or dropped, `conn` None: the warehouse is gone);
    - `external_head`, a head kept outside the system: it must be an entry of the log;
    - every version's file and every current file hashes as logged, and every file under mart/data and
      mart/versions is vouched for by the log;
    - the catalogue mart.duckdb is exactly what the code builds over this home's files (unless `catalog` is
      False: what repoint checks before it rebuilds the catalogue).

    Returns the problems found (empty: intact).
    """
    mart_dir = Path(mart_dir)
    verifier = verifier or signing.verifier_from_env()
    if verifier is None:
        return [
            f"no public key to check signatures with: set {signing.VERIFY_KEY_ENV} (the public half of the "
            f"pipeline's {signing.SIGNING_KEY_ENV})"
        ]
    problems: list[str] = []
    has_log = conn is not None and _has_log(conn)
    rows = run_sql(conn, "publish/log_all.sql") if has_log else []
    prev = GENESIS
    current: dict[tuple[str, str], tuple[int, int, str]] = {}
    hashes: list[str] = []
    vouched: set[str] = set()
    for seq, table, month, version, file, file_sha, n, fp, at, prev_hash, entry_hash, context, sig in rows:
        entry = _entry_dict(seq, table, month, version, file, file_sha, n, fp, at, prev_hash, context)
        if prev_hash != prev:
            problems.append(f"publish log entry {seq}: chain broken (previous hash does not match entry {seq - 1})")
        if _entry_hash(entry) != entry_hash:
            problems.append(f"publish log entry {seq}: entry altered ({table} {month})")
        elif not signing.entry_signed(verifier, entry_hash, sig):
            problems.append(
                f"publish log entry {seq}: not signed by key {verifier.key_id} ({table} {month}): forged or "
                "written without the pipeline's key"
            )
        prev = entry_hash
        hashes.append(entry_hash)
        vouched.add(file)
        path = mart_dir / file
        if not path.exists():
            problems.append(f"{file}: version {version} published in entry {seq} but missing from the mart")
        elif sha256_file(path) != file_sha:
            problems.append(f"{file}: content differs from what entry {seq} published (version {version})")
        current[(table, month)] = (seq, version, file_sha)
    for (table, month), (seq, version, sha) in sorted(current.items()):
        path = mart_dir / "data" / table / f"month={month}" / "data.parquet"
        rel = path.relative_to(mart_dir).as_posix()
        vouched.add(rel)
        if not path.exists():
            problems.append(f"{rel}: current version {version} (entry {seq}) missing from the mart")
        elif sha256_file(path) != sha:
            problems.append(f"{rel}: content differs from version {version}, the current one (entry {seq})")
    unvouched: list[str] = []
    for top in (mart_dir / "data", mart_dir / "versions", mart_dir / MART_FILE):
        # The pipeline never writes a link: one would let the views read what no entry vouches for.
        for path in [top, *sorted(top.rglob("*"))] if top.is_dir() else [top]:
            rel = path.relative_to(mart_dir).as_posix()
            if path.is_symlink():
                problems.append(f"{rel}: a symbolic link (to {os.readlink(path)}); the pipeline never writes one")
            elif path.is_file() and top.name != MART_FILE and rel not in vouched:
                unvouched.append(rel)
    shown = unvouched if len(unvouched) <= 5 else unvouched[:5]
    problems += [f"{rel}: in the mart but not vouched for by the publish log" for rel in shown]
    if len(unvouched) > len(shown):
        problems.append(f"… and {len(unvouched) - len(shown)} more files in the mart not vouched for by the log")
    problems += _head_problems(heads or heads_file(mart_dir), verifier, hashes, conn is not None, has_log)
    if external_head is not None and external_head not in hashes:
        problems.append(
            f"head {external_head} kept outside the system is not in the publish log ({len(hashes)} entries): "
            "the log was truncated or rewritten"
        )
    if catalog:
        problems += catalog_problems(mart_dir, files_reported=bool(problems))
    return problems


def repoint(conn: duckdb.DuckDBPyConnection | None, mart_dir: Path, verifier: signing.Verifier | None) -> list[str]:
    """Rebuild mart.duckdb for the home it now lies in (after a copy, a move or a restore), but only when this home's
    publish log vouches for every file the views would read: its entries verify with the public key and every
    file hashes as logged. Returns why it refused (empty: re-pointed)."""
    if conn is None:
        return ["the warehouse is missing: no publish log vouches for the mart's files"]
    problems = verify(conn, mart_dir, verifier, catalog=False)
    if not problems:
        build_catalog(mart_dir)
    return problems


def _has_log(conn: duckdb.DuckDBPyConnection) -> bool:
    return bool(run_sql(conn, "publish/has_log.sql")[0][0])


def _head_problems(
    path: Path, verifier: signing.Verifier, hashes: list[str], warehouse: bool, log_table: bool
) -> list[str]:
    found, problems = signing.read_heads(path, verifier)
    heads = [h for h in found if h.signed]  # a forged line is named above and vouches for nothing
    if not heads:
        if hashes:
            problems.append(f"{path.name}: no signed head for a log of {len(hashes)} entries (the heads file is gone)")
        return problems
    last = heads[-1]
    if not warehouse:
        problems.append(f"the warehouse is missing, but {path.name} has signed heads up to entry {last.seq}")
    elif not log_table:
        problems.append(
            f"audit.publish_log is missing (dropped), but {path.name} has signed heads up to entry {last.seq}"
        )
    elif len(hashes) < last.seq:
        problems.append(
            f"the publish log has {len(hashes)} entries, shorter than its last signed head (entry {last.seq}, "
            f"{path.name} line {last.line}): entries were deleted"
        )
    for h in heads:
        if h.seq <= len(hashes) and hashes[h.seq - 1] != h.entry_hash:
            problems.append(f"publish log entry {h.seq} is not the one signed in {path.name} line {h.line}")
    return problems
