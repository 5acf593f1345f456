"""One transaction helper (事务): what a failing step leaves behind is the state before it."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from zs_risk_pipeline.lib.core.db import transaction


@pytest.fixture
def conn() -> duckdb.DuckDBPyConnection:
    c = duckdb.connect()
    c.execute("CREATE TABLE t (month DATE, v INT)")
    c.execute("INSERT INTO t VALUES ('2024-03-01', 1), ('2024-04-01', 2)")
    return c


def _replace_march(c: duckdb.DuckDBPyConnection) -> None:
    c.execute("DELETE FROM t WHERE month = '2024-03-01'")
    c.execute("INSERT INTO t SELECT '2024-03-01', v FROM _new")


def test_the_block_is_committed_and_its_frames_unregistered(conn: duckdb.DuckDBPyConnection) -> None:
    with transaction(conn, {"_new": pd.DataFrame({"v": [7, 8]})}):
        _replace_march(conn)
    assert conn.execute("SELECT v FROM t ORDER BY month, v").fetchall() == [(7,), (8,), (2,)]
    with pytest.raises(duckdb.CatalogException):
        conn.execute("SELECT * FROM _new")


@pytest.mark.parametrize("failure", [RuntimeError("bad row"), KeyboardInterrupt()])
def test_anything_escaping_the_block_rolls_it_back(conn: duckdb.DuckDBPyConnection, failure: BaseException) -> None:
    with pytest.raises(type(failure)), transaction(conn, {"_new": pd.DataFrame({"v": [7]})}):
        _replace_march(conn)
        raise failure
    assert conn.execute("SELECT v FROM t ORDER BY month").fetchall() == [(1,), (2,)]
    with pytest.raises(duckdb.CatalogException):
        conn.execute("SELECT * FROM _new")
    with transaction(conn):  # and the connection is usable again: no transaction left open
        conn.execute("INSERT INTO t VALUES ('2024-05-01', 3)")
    assert conn.execute("SELECT count(*) FROM t").fetchone() == (3,)
