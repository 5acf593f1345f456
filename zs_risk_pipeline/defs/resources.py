"""Resources and executor (资源与执行器): the only Definitions object under defs/ besides the assets."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
from dagster._utils.backoff import backoff
from dagster_duckdb import DuckDBResource
from pydantic import PrivateAttr

from zs_risk_pipeline.lib.core import resources as locations
from zs_risk_pipeline.lib.core import settings
from zs_risk_pipeline.lib.policy.folder import Policy, load_policy_folder


class ZsRiskHome(dg.ConfigurableResource):
    """The deployment's home: landing/, warehouse.duckdb, mart/, plans/, models/ (部署目录)."""

    home: str

    def paths(self) -> settings.Paths:
        return settings.Paths(Path(self.home))


class Warehouse(DuckDBResource):
    """The pipeline's DuckDB warehouse (single writer), owner-only on disk: the file is 0600 from its first
    connection on, its spill folder is made 0700 before DuckDB would create it, and a WAL left behind is 0600.
    With `home`, every run that uses the warehouse makes the home's restricted parts owner-only when it starts and
    repairs them when it ends (files the run wrote included). The hooks live here, not on ZsRiskHome, which
    sensors use: a resource with hooks needs a context manager around every sensor context.

    Within a run the database stays open from the run's start to its end, and each step gets its own connection
    (a cursor: its own transaction and temporary objects). Opening the file and checkpointing it on close for
    every one of a month's ~90 steps cost more than most steps; a run that dies leaves the write-ahead log, which
    DuckDB replays when the file is next opened. Outside a run (a sensor, a test) every connection opens and
    closes the file, as DuckDBResource does."""

    home: str = ""
    _db: duckdb.DuckDBPyConnection | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        if self.home:
            settings.Paths(Path(self.home)).ensure()
        files = self._files()
        if files and files[0].parent.is_dir():
            files[2].mkdir(mode=settings.OWNER_DIR_MODE, exist_ok=True)
            self._db = self._connect()
            settings.owner_only(files)

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        db, self._db = self._db, None
        if db is not None:
            db.close()  # the checkpoint: the file holds the run's writes, the WAL is gone
            settings.owner_only(self._files() or ())
        if self.home and Path(self.home).is_dir():
            settings.Paths(Path(self.home)).restrict()

    def _files(self) -> tuple[Path, Path, Path] | None:
        return None if self.database.startswith(":memory:") else settings.warehouse_files(Path(self.database))

    def _connect(self) -> duckdb.DuckDBPyConnection:
        # As DuckDBResource connects: retried while another process holds the file's lock for a moment.
        return backoff(
            fn=duckdb.connect,
            retry_on=(RuntimeError, duckdb.IOException),
            kwargs={
                "database": self.database,
                "read_only": False,
                "config": {"custom_user_agent": "dagster", **self.connection_config},
            },
            max_retries=10,
        )

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        files = self._files()
        if self._db is not None:
            conn = self._db.cursor()
            try:
                yield conn
            finally:
                conn.close()  # rolls back whatever the step left open
                if files:
                    settings.owner_only(files)
            return
        if files and files[0].parent.is_dir():
            files[2].mkdir(mode=settings.OWNER_DIR_MODE, exist_ok=True)
        try:
            with super().get_connection() as conn:
                if files:
                    settings.owner_only(files)
                yield conn
        finally:
            if files:
                settings.owner_only(files)


class ZsRiskPolicy(dg.ConfigurableResource):
    """The operator policy folder (政策口径目录) a run reads: config/*.yaml, validated as a whole when the run
    starts (lib/policy/folder.py), so a run stops at once, in one line, on a file that breaks a rule and every
    step of it reads the same policy. `folder` empty: $ZS_RISK_CONFIG, or the shipped config/."""

    folder: str = ""
    _policy: Policy | None = PrivateAttr(default=None)

    def path(self) -> Path:
        return Path(self.folder) if self.folder else locations.config_dir()

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self._policy = load_policy_folder(self.path())

    def load(self) -> Policy:
        """The validated policy: the run's, or (outside a run) the folder as it is now (cached by its hashes)."""
        return self._policy if self._policy is not None else load_policy_folder(self.path())


class PiiKey(dg.ConfigurableResource):
    """Key for hashing personal ID numbers at ingest (个人信息脱敏密钥); from the environment only."""

    key: str

    def key_bytes(self) -> bytes:
        return settings.pii_key(self.key)


@dg.definitions
def resources() -> dg.Definitions:
    paths = settings.home()
    return dg.Definitions(
        resources={
            "warehouse": Warehouse(database=str(paths.warehouse), home=str(paths.home)),
            "zs_home": ZsRiskHome(home=str(paths.home)),
            "policy": ZsRiskPolicy(folder=str(locations.config_dir())),
            "pii": PiiKey(key=dg.EnvVar(settings.PII_KEY_ENV)),
        },
        # One DuckDB writer on 2 cores: steps run one after another in the run's own process.
        executor=dg.in_process_executor,
    )
