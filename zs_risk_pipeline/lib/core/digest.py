"""SHA-256 of files (文件摘要): one way to fingerprint a file or a folder of files, for the publish log, the
one-public export, the inspection-results sensor and the checks that published plans stayed as they were."""

from __future__ import annotations

import hashlib
from pathlib import Path


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file's bytes, read in 1 MiB blocks (published files can be large)."""
    h = hashlib.sha256()
    with Path(path).open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def sha256_tree(root: Path) -> dict[str, str]:
    """{path relative to root (POSIX): SHA-256} of every file below root; empty when root does not exist."""
    root = Path(root)
    files = sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []
    return {p.relative_to(root).as_posix(): sha256_file(p) for p in files}
