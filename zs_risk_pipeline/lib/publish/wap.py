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

import datetime as dt
import json
import os
import shutil
import uuid
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from zs_risk_pipeline.lib.core import faults
from zs_risk_pipeline.lib.core.digest import sha256_file
from zs_risk_pipeline.lib.core.month import Month
from zs_risk_pipeline.lib.core.sql import month_rows, run_sql
from zs_risk_pipeline.lib.evidence import signing
from zs_risk_pipeline.lib.policy.folder import Policy
from zs_risk_pipeline.lib.publish import catalog, log, tables


def record_audit(
    conn: duckdb.DuckDBPyConnection,
    spec: tables.MartTable,
    month: str,
    check_name: str,
    fp: tables.Fingerprint,
    passed: bool,
    detail: dict,
    at: dt.datetime | None = None,
) -> None:
    run_sql(
        conn,
        "ops/audit.audits.sql#record",
        {
            "table_name": spec.qualified,
            "month": Month.of(month).start,
            "check_name": check_name,
            "fingerprint": fp.sha256,
            "rows": fp.rows,
            "passed": passed,
            "detail": json.dumps(detail, ensure_ascii=False, default=str),
            "checked_at": at or dt.datetime.now(dt.UTC).replace(tzinfo=None),
        },
    )


def _audit_problems(
    conn: duckdb.DuckDBPyConnection, spec: tables.MartTable, month: str, fp: tables.Fingerprint
) -> list[str]:
    latest = {
        name: (sha, passed)
        for name, sha, passed, _rows, _at in run_sql(
            conn, "ops/audit.audits.sql#latest", {"table_name": spec.qualified, "month": Month.of(month).start}
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


def _latest_version(conn: duckdb.DuckDBPyConnection, spec: tables.MartTable, month: str) -> tuple | None:
    rows = run_sql(
        conn, "ops/audit.publish_log.sql#latest_version", {"mart_table": spec.name, "month": Month.of(month).start}
    )
    return rows[0] if rows else None


def _current_file(mart_dir: Path, spec: tables.MartTable, month: str) -> Path:
    return mart_dir / "data" / spec.name / f"month={month[:7]}" / "data.parquet"


def _version_file(mart_dir: Path, spec: tables.MartTable, month: str, version: int) -> Path:
    return mart_dir / "versions" / spec.name / f"month={month[:7]}" / f"v{version:04d}.parquet"


def _place(source: Path, target: Path) -> None:
    """Put `source`'s bytes at `target` atomically (a hard link where the file system allows, else a copy)."""
    tmp = target.parent / f".{target.name}.{uuid.uuid4().hex}.tmp"
    try:
        os.link(source, tmp)
    except OSError:
        shutil.copyfile(source, tmp)
    os.replace(tmp, target)


def _export(
    conn: duckdb.DuckDBPyConnection, spec: tables.MartTable, month: str, fp: tables.Fingerprint, path: Path
) -> str:
    """Write the month's rows as Parquet to `path` (durably) and return the file's SHA-256."""
    rows = month_rows(conn, spec.qualified, Month.of(month).start, spec.month_column, ordered=True)
    table = rows.to_arrow_table()
    if table.num_rows != fp.rows:
        raise tables.PublishRefused(f"{spec.qualified} {month[:7]} changed while being published")
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
    spec: tables.MartTable,
    month: str,
    mart_dir: Path,
    at: dt.datetime | None = None,
    signer: signing.Signer | None = None,
    policy: Policy | None = None,
) -> tables.PublishResult:
    """Publish one audited month of a table to the mart as a new version, or raise PublishRefused and change
    nothing readers see. Content identical to the current version is not published again (no new version, no
    new entry); whatever an interrupted earlier publish left is recovered first (see the module docstring).
    The entry records the policy of `policy` (default: the policy folder in use)."""
    signer = signer or signing.signer_from_env()
    tables.prepare(conn)
    fp = tables.fingerprint(conn, spec, month)
    problems = _audit_problems(conn, spec, month, fp)
    if problems:
        raise tables.PublishRefused(
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
                raise tables.PublishRefused(
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
            return tables.PublishResult(
                spec.name, month[:7], current, file_sha, fp.rows, entry_hash, version, kept, True, was, tuple(recovered)
            )
    context = log.entry_context(conn, spec, month, latest[5] if latest else None, mart_dir, policy)
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
    entry = log._append_log(
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
    return tables.PublishResult(
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
        if catalog._built_key(mart_dir) != catalog.catalog_key(mart_dir):
            catalog.build_catalog(mart_dir)
    elif catalog.catalog_problems(mart_dir, reuse=True):
        done.append(f"{tables.MART_FILE}: rebuilt (it was missing or not as the code builds it)")
        catalog.build_catalog(mart_dir)
    faults.crash_point("publish:catalog")
    tail = run_sql(conn, "ops/audit.publish_log.sql#tail")
    if tail:
        head = signing.append_head(tables.heads_file(mart_dir), signer, int(tail[0][0]), tail[0][1])
        if head is not None and not rebuild:
            done.append(f"{signing.HEADS_FILE}: head {tail[0][0]} signed (an earlier publish stopped before it)")
    return done
