"""The Dagster instance storage of one ZS_RISK_HOME (Dagster 实例存储): Dagster's own SQLite storage, in Dagster's own
layout under DAGSTER_HOME (history/runs.db, history/runs/<run>.db, schedules/), with one change: the event log keeps
a connection to each database it writes instead of creating an engine and opening the file for every event.

A month run stores about 500 events (step start, output, success, materialisation, check evaluation, pool slot
claims). Dagster's SQLite event log builds a new SQLAlchemy engine, opens the file, commits and closes for each of
them, which is most of the cost of a short step (`python bench/bench_dagster_steps.py` measures both storages per
step). SQLite's own locking is unchanged: every event is still its own
committed transaction, written through WAL with the busy timeout Dagster sets, so the UI, the daemon and a
`zs-risk run` can share the home as before.

Configured in config/dagster.yaml (`storage: custom:`); with no `base_dir` the storage lives in DAGSTER_HOME, so a
home that is copied or moved keeps its run history with it."""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import dagster as dg
from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    SQLITE_BUSY_TIMEOUT_SECONDS,
    SqliteEventLogStorage,
)
from dagster._core.storage.runs.sqlite.sqlite_run_storage import SqliteRunStorage
from dagster._core.storage.schedules.sqlite.sqlite_schedule_storage import SqliteScheduleStorage
from dagster._core.storage.sql import create_engine
from dagster._core.storage.sqlite_storage import (
    DagsterSqliteStorage,
    _event_logs_directory,
    _runs_directory,
    _schedule_directory,
)
from dagster._serdes import ConfigurableClassData
from dagster._utils import mkdir_p
from sqlalchemy.engine import Connection, Engine

# A UI browsing old runs opens many run shards: keep the most recent few open, dispose the rest.
KEPT_SHARDS = 8


class PooledSqliteEventLogStorage(SqliteEventLogStorage):
    """Dagster's SQLite event log with one pooled engine per shard (the index and the most recent run shards)."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None) -> None:
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        super().__init__(base_dir, inst_data)

    def _engine(self, shard: str) -> Engine:
        engine = self._engines.get(shard)
        if engine is None:
            # QueuePool (SQLAlchemy's choice for a SQLite file); Dagster's own engines use NullPool
            engine = create_engine(
                self.conn_string_for_shard(shard), connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS}
            )
            self._engines[shard] = engine
            while len(self._engines) > KEPT_SHARDS:
                self._engines.popitem(last=False)[1].dispose()
        else:
            self._engines.move_to_end(shard)
        return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:  # type: ignore[override]
        with self._db_lock:
            engine = self._engine(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn, conn.begin():
                yield conn

    def _dispose_engines(self) -> None:
        with self._db_lock:
            for engine in self._engines.values():
                engine.dispose()
            self._engines.clear()

    def wipe(self) -> None:
        self._dispose_engines()  # the files are deleted: no connection may keep one alive
        super().wipe()

    def dispose(self) -> None:
        super().dispose()
        self._dispose_engines()


class HomeSqliteStorage(DagsterSqliteStorage):
    """Dagster's SQLite storage in DAGSTER_HOME (or `base_dir`), its event log pooled."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None) -> None:
        self.base_dir = base_dir
        self._run_storage = SqliteRunStorage.from_local(_runs_directory(base_dir))
        self._event_log_storage = PooledSqliteEventLogStorage(_event_logs_directory(base_dir))
        self._schedule_storage = SqliteScheduleStorage.from_local(_schedule_directory(base_dir))
        self._inst_data = inst_data
        super(DagsterSqliteStorage, self).__init__()

    @classmethod
    def config_type(cls) -> Any:
        return {"base_dir": dg.Field(dg.StringSource, is_required=False)}

    @classmethod
    def from_config_value(  # type: ignore[override]
        cls, inst_data: ConfigurableClassData, config_value: Mapping[str, Any]
    ) -> HomeSqliteStorage:
        base_dir = config_value.get("base_dir") or os.environ.get("DAGSTER_HOME")
        if not base_dir:
            raise dg.DagsterInvariantViolationError(
                "HomeSqliteStorage needs DAGSTER_HOME (or storage.custom.config.base_dir) to find the home's storage"
            )
        base_dir = os.path.abspath(base_dir)
        mkdir_p(base_dir)
        return cls(base_dir, inst_data=inst_data)
