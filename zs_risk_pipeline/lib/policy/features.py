"""config/features.yaml (特征口径): the entity types the enterprise classification covers.

Plain Python, no Dagster.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator

from zs_risk_pipeline.lib.policy.base import StrictModel, unique


def _entity_types(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(t, str) and t.strip() for t in value):
        raise ValueError(f"must be a non-empty list of entity types, got {value!r}")
    types = [t.strip() for t in value]
    unique(types, "an entity type")
    return tuple(types)


class FeaturePolicy(StrictModel):
    """The validated config/features.yaml."""

    entity_types_in_scope: Annotated[tuple[str, ...], BeforeValidator(_entity_types)]
