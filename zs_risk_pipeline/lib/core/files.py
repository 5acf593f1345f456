"""Owner-only files written durably (受限文件的可靠写入): what a crash must not leave half written.

- `write_private(path, text)`: the whole file, written aside, fsync-ed, then renamed over the old one (readers see
  the old or the new content, never a part);
- `append_private(path, text)`: one record appended and fsync-ed (an append-only file such as the signed heads).

Both create the file 0600 and a missing folder 0700. Plain Python.
"""

from __future__ import annotations

import os
from pathlib import Path


def _write(fd: int, text: str) -> None:
    try:
        os.write(fd, text.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)


def write_private(path: Path, text: str) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    _write(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), text)
    os.replace(tmp, path)


def append_private(path: Path, text: str) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    _write(os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600), text)
