"""Audited checks for write-audit-publish (审计校验), the one shape every blocking check of a mart table has.

A blocking check fingerprints the month's rows, computes its gate on them, and records the verdict bound to that
fingerprint; the publish reads the verdict and refuses rows other than those the check saw.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource

from zs_risk_pipeline.defs.partitions import monthly
from zs_risk_pipeline.defs.resources import ZsRiskHome, ZsRiskPolicy
from zs_risk_pipeline.lib.core import settings
from zs_risk_pipeline.lib.features import enterprise_monthly
from zs_risk_pipeline.lib.policy.folder import Policy
from zs_risk_pipeline.lib.publish import tables, wap
from zs_risk_pipeline.lib.quality import gates

# What a gate computes from the month's rows: its result and the detail reported beside it.
Gate = tuple[gates.GateResult, dict[str, Any]]


def fingerprint(conn: duckdb.DuckDBPyConnection, spec: tables.MartTable, month: str) -> tables.Fingerprint:
    tables.prepare(conn)
    return tables.fingerprint(conn, spec, month)


def audited(
    conn: duckdb.DuckDBPyConnection,
    spec: tables.MartTable,
    month: str,
    fp: tables.Fingerprint,
    gate: gates.GateResult,
    detail: dict,
) -> dg.AssetCheckResult:
    """Record a blocking check's verdict bound to the rows it saw (the publish reads it), and report it."""
    wap.record_audit(conn, spec, month, gate.name, fp, gate.passed, detail)
    return dg.AssetCheckResult(passed=gate.passed, metadata={**detail, "fingerprint": fp.sha256})


@dataclass(frozen=True)
class RunInputs:
    """What a gate may read beyond the warehouse: the run's policy, and the home's paths (the model registry)
    for the gates declared with uses_home."""

    policy: Policy
    home: settings.Paths | None = None

    @property
    def paths(self) -> settings.Paths:
        if self.home is None:  # said plainly, not as an AttributeError on None deep inside the gate
            raise RuntimeError("this check's gate reads the home (run.paths): declare it with uses_home=True")
        return self.home


def audited_check(
    *, asset: dg.AssetKey, spec: tables.MartTable, name: str, description: str, uses_home: bool = False
) -> Callable[[Callable[..., Gate]], dg.AssetChecksDefinition]:
    """A blocking, monthly check of `spec` from a gate function `(conn, month, fp, run) -> (result, detail)`:
    fingerprint, gate, audit and report, the same way for every audited table. The check asks Dagster only for
    the resources its gate reads (the home only with `uses_home`)."""

    def decorate(compute: Callable[..., Gate]) -> dg.AssetChecksDefinition:
        def evaluate(
            context: dg.AssetCheckExecutionContext, warehouse: DuckDBResource, run: RunInputs
        ) -> dg.AssetCheckResult:
            month = context.partition_key
            with warehouse.get_connection() as conn:
                fp = fingerprint(conn, spec, month)
                result, detail = compute(conn, month, fp, run)
                return audited(conn, spec, month, fp, result, {**result.metadata(), **detail})

        spec_args = {"asset": asset, "name": name, "blocking": True, "partitions_def": monthly}
        if uses_home:

            @dg.asset_check(**spec_args, description=description)
            def check_with_home(
                context: dg.AssetCheckExecutionContext,
                warehouse: DuckDBResource,
                policy: ZsRiskPolicy,
                zs_home: ZsRiskHome,
            ) -> dg.AssetCheckResult:
                return evaluate(context, warehouse, RunInputs(policy.load(), zs_home.paths()))

            return check_with_home

        @dg.asset_check(**spec_args, description=description)
        def check(
            context: dg.AssetCheckExecutionContext, warehouse: DuckDBResource, policy: ZsRiskPolicy
        ) -> dg.AssetCheckResult:
            return evaluate(context, warehouse, RunInputs(policy.load()))

        return check

    return decorate


def alive_row_count(
    conn: duckdb.DuckDBPyConnection, month: str, fp: tables.Fingerprint, name: str, run: RunInputs
) -> Gate:
    """One row per enterprise in scope alive at month end, counted independently from the staged registry."""
    alive = enterprise_monthly.alive_count(conn, month, list(run.policy.features.entity_types_in_scope))
    violations = [] if fp.rows == alive else [(fp.rows, alive)]
    return gates.sql_gate(name, violations, ["table_rows", "alive"], "row_count"), {
        "table_rows": fp.rows,
        "alive": alive,
    }
