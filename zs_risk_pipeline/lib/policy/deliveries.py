"""config/deliveries.yaml (月度数据交付): the sources that must deliver every month, and those that may deliver an
empty file. Validated by DeliveryPolicy, which is also what lib/ingest/deliveries.py checks a month against.

Plain Python, no Dagster.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, model_validator

from zs_risk_pipeline.lib.ingest.contract import sources
from zs_risk_pipeline.lib.policy.base import FieldError, PositiveInt, StrictModel, unique


def _sources(value: Any) -> tuple[str, ...]:
    value = [] if value is None else value
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"must be a list of source names, got {value!r}")
    known = set(sources())
    bad = [v for v in value if v not in known]
    if bad:
        raise ValueError(f"{bad[0]!r} is not a source of the landing contract")
    unique(value, "a source")
    return tuple(value)


SourceList = Annotated[tuple[str, ...], BeforeValidator(_sources)]


class DeliveryPolicy(StrictModel):
    """The validated config/deliveries.yaml."""

    version: PositiveInt = 1
    every_month: SourceList = ()
    may_be_empty: SourceList = ()  # of every_month, the sources for which a file without rows is a delivery

    @model_validator(mode="after")
    def _empty_ones_are_expected(self) -> DeliveryPolicy:
        stray = [s for s in self.may_be_empty if s not in self.every_month]
        if stray:
            raise FieldError("may_be_empty", f"{stray[0]!r} is not in every_month")
        return self
