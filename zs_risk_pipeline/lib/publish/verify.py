"""Verifying the mart (集市核验): the publish log, the files, the catalogue and the signed heads.

What `zs-risk verify` checks of the publish side, with the public key only, and re-pointing a copied home.
Plain Python, no Dagster.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from zs_risk_pipeline.lib.core.digest import sha256_file
from zs_risk_pipeline.lib.core.sql import run_sql, table_exists
from zs_risk_pipeline.lib.evidence import signing
from zs_risk_pipeline.lib.publish import catalog as publish_catalog
from zs_risk_pipeline.lib.publish import log, tables


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
    rows = run_sql(conn, "ops/audit.publish_log.sql#all") if has_log else []
    prev = tables.GENESIS
    current: dict[tuple[str, str], tuple[int, int, str]] = {}
    hashes: list[str] = []
    vouched: set[str] = set()
    for seq, table, month, version, file, file_sha, n, fp, at, prev_hash, entry_hash, context, sig in rows:
        entry = log._entry_dict(seq, table, month, version, file, file_sha, n, fp, at, prev_hash, context)
        if prev_hash != prev:
            problems.append(f"publish log entry {seq}: chain broken (previous hash does not match entry {seq - 1})")
        if log._entry_hash(entry) != entry_hash:
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
    for top in (mart_dir / "data", mart_dir / "versions", mart_dir / tables.MART_FILE):
        # The pipeline never writes a link: one would let the views read what no entry vouches for.
        for path in [top, *sorted(top.rglob("*"))] if top.is_dir() else [top]:
            rel = path.relative_to(mart_dir).as_posix()
            if path.is_symlink():
                problems.append(f"{rel}: a symbolic link (to {os.readlink(path)}); the pipeline never writes one")
            elif path.is_file() and top.name != tables.MART_FILE and rel not in vouched:
                unvouched.append(rel)
    shown = unvouched if len(unvouched) <= 5 else unvouched[:5]
    problems += [f"{rel}: in the mart but not vouched for by the publish log" for rel in shown]
    if len(unvouched) > len(shown):
        problems.append(f"… and {len(unvouched) - len(shown)} more files in the mart not vouched for by the log")
    problems += _head_problems(heads or tables.heads_file(mart_dir), verifier, hashes, conn is not None, has_log)
    if external_head is not None and external_head not in hashes:
        problems.append(
            f"head {external_head} kept outside the system is not in the publish log ({len(hashes)} entries): "
            "the log was truncated or rewritten"
        )
    if catalog:
        problems += publish_catalog.catalog_problems(mart_dir, files_reported=bool(problems))
    return problems


def repoint(conn: duckdb.DuckDBPyConnection | None, mart_dir: Path, verifier: signing.Verifier | None) -> list[str]:
    """Rebuild mart.duckdb for the home it now lies in (after a copy, a move or a restore), but only when this home's
    publish log vouches for every file the views would read: its entries verify with the public key and every
    file hashes as logged. Returns why it refused (empty: re-pointed)."""
    if conn is None:
        return ["the warehouse is missing: no publish log vouches for the mart's files"]
    problems = verify(conn, mart_dir, verifier, catalog=False)
    if not problems:
        publish_catalog.build_catalog(mart_dir)
    return problems


def _has_log(conn: duckdb.DuckDBPyConnection) -> bool:
    return table_exists(conn, "audit", "publish_log")


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
