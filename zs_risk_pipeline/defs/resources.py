"""Resources and executor (资源与执行器): the only Definitions object under defs/ besides the assets."""

from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource

from zs_risk_pipeline.lib import settings


class ZsRiskHome(dg.ConfigurableResource):
    """The deployment's home: landing/, warehouse.duckdb, mart/, models/ (部署目录)."""

    home: str

    def paths(self) -> settings.Paths:
        return settings.Paths(Path(self.home))


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
            "warehouse": DuckDBResource(database=str(paths.warehouse)),
            "zs_home": ZsRiskHome(home=str(paths.home)),
            "pii": PiiKey(key=dg.EnvVar(settings.PII_KEY_ENV)),
        },
        # One DuckDB writer on 2 cores: steps run one after another in the run's own process.
        executor=dg.in_process_executor,
    )
