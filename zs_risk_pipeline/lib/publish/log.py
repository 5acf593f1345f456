"""The publish log (发布日志): one hash-chained, signed entry per published version, with its context.

What an entry records (code release and source hash, config hash, model and policy versions, the month's
release despite missing sources) and how it is appended. Plain Python, no Dagster.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import importlib.metadata
import json
from pathlib import Path

import duckdb

from zs_risk_pipeline.lib.core.digest import sha256_file
from zs_risk_pipeline.lib.core.month import Month
from zs_risk_pipeline.lib.core.sql import SQL_DIR, distinct_values, run_sql
from zs_risk_pipeline.lib.evidence import signing
from zs_risk_pipeline.lib.model.registry import Registry, RegistryError
from zs_risk_pipeline.lib.policy import folder as policy_folder
from zs_risk_pipeline.lib.policy import versions as policy_versions
from zs_risk_pipeline.lib.publish import tables


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


def config_sha256(policy: policy_folder.Policy | None = None) -> str:
    """SHA-256 over every YAML file of a policy folder (default: the one in use, $ZS_RISK_CONFIG or the shipped
    config/) by canonical content (lib/policy/versions.py)."""
    policy = policy or policy_folder.current()
    files = {f"config/{name}": sha for name, sha in policy.hashes.items()}
    text = "".join(f"{name}:{sha}\n" for name, sha in sorted(files.items()))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _models(
    conn: duckdb.DuckDBPyConnection, spec: tables.MartTable, month: str, mart_dir: Path
) -> dict[str, str | None]:
    """The models that computed the month's rows and the SHA-256 of each model file in the registry (a scorecard
    version carries its own config hash in its name)."""
    if spec.model_column is None:
        return {}
    found = distinct_values(conn, spec.qualified, spec.model_column, Month.of(month).start, spec.month_column)
    registry = Registry(Path(mart_dir).parent / "models")
    out: dict[str, str | None] = {}
    for v in found:
        try:
            out[v] = registry.entry(v).get("sha256")
        except RegistryError:
            out[v] = None  # a scorecard version: no model file
    return out


def entry_context(
    conn: duckdb.DuckDBPyConnection,
    spec: tables.MartTable,
    month: str,
    previous: str | None,
    mart_dir: Path,
    policy: policy_folder.Policy | None = None,
) -> dict:
    """What a new version's log entry records beside its content: the policy version and files it was computed
    with (refused when the rows say another policy than the files now), which policy files changed since the
    previous version, the operator's release of a month whose expected sources had not delivered, the model(s)
    with their file hashes, the hash of all config files, and the code version (design.md §5). The policy is
    `policy` (default: the policy folder in use)."""
    policy = policy or policy_folder.current()
    version = policy_versions.current(spec.policy, policy)
    if spec.policy_column:
        found = distinct_values(conn, spec.qualified, "policy_version", Month.of(month).start, spec.month_column)
        if found and found != [version.version]:  # a month without rows carries no version
            raise tables.PublishRefused(
                f"{spec.qualified} {month[:7]} was computed under policy version {', '.join(map(str, found))}, the "
                f"policy files now are version {version.version}: rerun the month before it is published"
            )
    context: dict = {
        "policy": version.as_json(),
        "config_sha256": config_sha256(policy),
        "code": code_version(),
        "models": _models(conn, spec, month, mart_dir),
    }
    before = json.loads(previous).get("policy", {}).get("files") if previous else None
    changed = policy_versions.changed_files(before, version.files)
    if changed:
        context["policy_changed"] = changed
    released = run_sql(conn, "ops/audit.deliveries.sql#month_release", {"month": Month.of(month).start})
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
    spec: tables.MartTable,
    month: str,
    version: int,
    file: str,
    file_sha: str,
    fp: tables.Fingerprint,
    at: dt.datetime | None,
    context: dict,
    signer: signing.Signer,
) -> str:
    """Append the entry and its signature in one statement: an entry is never in the log unsigned."""
    tail = run_sql(conn, "ops/audit.publish_log.sql#tail")
    seq, prev = (tail[0][0] + 1, tail[0][1]) if tail else (1, tables.GENESIS)
    when = at or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    text = json.dumps(context, sort_keys=True, ensure_ascii=False)
    entry = _entry_dict(seq, spec.name, month[:7], version, file, file_sha, fp.rows, fp.sha256, when, prev, text)
    entry_hash = _entry_hash(entry)
    run_sql(
        conn,
        "ops/audit.publish_log.sql#append",
        {
            **entry,
            "month": Month.of(month).start,
            "published_at": when,
            "entry_hash": entry_hash,
            "signature": signing.sign_entry(signer, entry_hash),
            "key_id": signer.key_id,
        },
    )
    return entry_hash
