"""Warehouse transactions (事务): the one way a step replaces what it owns.

Every step that rewrites a month of its table (or lands a delivery) does it inside `transaction`, so a failure
at any instant (an error, an interrupt, a killed process) leaves the previous state of everything it touched,
and the next run starts from a consistent warehouse.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import duckdb


@contextmanager
def transaction(
    conn: duckdb.DuckDBPyConnection, registered: Mapping[str, Any] | None = None
) -> Iterator[duckdb.DuckDBPyConnection]:
    """One transaction around the block: committed when it ends, rolled back when anything escapes it.

    `registered`: frames or relations the block's SQL reads by name, registered for the block and unregistered
    afterwards whatever happens.
    """
    names = list(registered or {})
    for name in names:
        conn.register(name, registered[name])  # type: ignore[index]
    try:
        conn.execute("BEGIN TRANSACTION")
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    finally:
        for name in names:
            conn.unregister(name)
