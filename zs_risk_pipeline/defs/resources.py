"""Resources and executor (资源与执行器): the only Definitions object under defs/ besides the assets."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource

from zs_risk_pipeline.lib import settings


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
    sensors use: a resource with hooks needs a context manager around every sensor context."""

    home: str = ""

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        if self.home:
            settings.Paths(Path(self.home)).ensure()

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self.home and Path(self.home).is_dir():
            settings.Paths(Path(self.home)).restrict()

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        files = None if self.database.startswith(":memory:") else settings.warehouse_files(Path(self.database))
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
            "pii": PiiKey(key=dg.EnvVar(settings.PII_KEY_ENV)),
        },
        # One DuckDB writer on 2 cores: steps run one after another in the run's own process.
        executor=dg.in_process_executor,
    )
