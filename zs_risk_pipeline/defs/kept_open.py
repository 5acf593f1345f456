"""The instance's SQLite storages kept open for one run (存储连接保持): what a long run does not reopen per event."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING

import dagster as dg

if TYPE_CHECKING:
    pass


class SqliteKeptOpen:
    """While this process executes a run in-process: one idle connection to each SQLite file of the instance's
    local storage (run history, event-log index, schedules) and to the run's own event-log shard.

    Dagster opens and closes a connection for every event it stores (hundreds per run). The last connection to
    close a WAL-mode database checkpoints it and deletes the WAL, two more fsyncs per event; with one connection
    kept open no other is ever the last, and SQLite checkpoints as usual, every 1000 pages. The kept connections
    only read the schema once: they hold no transaction and no lock a writer or reader waits for, and durability
    stays SQLite's default. Anything but local SQLite storage is left alone. With the home's storage
    (defs/storage.py) the event log keeps its own connections, so what this still saves there is the run history
    and schedules; a home whose dagster.yaml predates that storage gets the event-log shards held here too."""

    def __init__(self, instance: dg.DagsterInstance) -> None:
        from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage

        storage = instance.event_log_storage
        self._storage = storage if isinstance(storage, SqliteEventLogStorage) else None
        self._held: dict[str, sqlite3.Connection] = {}
        if self._storage is not None:
            root = Path(instance.root_directory)
            for path in (root / "history" / "runs.db", root / "schedules" / "schedules.db"):
                self._hold(str(path))
            self._hold(self._storage.path_for_shard("index"))

    def hold_run(self, run_id: str) -> None:
        """Keep the run's event-log shard open too (it exists once the run's first event is stored)."""
        if self._storage is not None:
            self._hold(self._storage.path_for_shard(run_id))

    def _hold(self, path: str) -> None:
        if path in self._held or not os.path.isfile(path):
            return
        try:
            conn = sqlite3.connect(path, timeout=30)
            conn.execute("SELECT count(*) FROM sqlite_master").fetchall()  # opens the WAL index, then idles
        except sqlite3.Error:
            return  # only a speed-up: Dagster works the same without it
        self._held[path] = conn

    def close(self) -> None:
        for conn in self._held.values():
            conn.close()
        self._held.clear()

    def __enter__(self) -> SqliteKeptOpen:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
