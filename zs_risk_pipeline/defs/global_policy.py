"""Global policy of the code location (全局策略): owners, the warehouse pool, and the kinds and tags of each group.

definitions.py applies it to every asset spec, so an asset declares only what is its own (its key, group,
description, inputs); an asset that declares kinds or tags of its own (a CSV export in a warehouse group)
keeps them instead of its group's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import dagster as dg

OWNERS = ("team:risk-data",)
# One writer at a time on the warehouse (DuckDB is single-writer). Pools are a property of the op in Dagster,
# not of the asset spec, so each warehouse-writing asset passes pool=POOL (the asset-graph snapshot holds every pool).
POOL = "duckdb"


@dataclass(frozen=True)
class GroupPolicy:
    kinds: frozenset[str]
    tags: dict[str, str] = field(default_factory=dict)


INTERNAL = {"confidentiality": "internal"}  # internal reference data: never leaves the bureau (分类结果仅供内部参考)
GROUPS: dict[str, GroupPolicy] = {
    "ingest": GroupPolicy(frozenset({"duckdb"})),  # each layer (raw, staging) tags its own assets
    "features": GroupPolicy(frozenset({"duckdb"}), {"layer": "features"}),
    "model": GroupPolicy(frozenset({"duckdb", "lightgbm"}), {"layer": "model"}),
    "tiers": GroupPolicy(frozenset({"duckdb"}), {"layer": "tiers", **INTERNAL}),
    "monitoring": GroupPolicy(frozenset({"duckdb"}), {"layer": "monitoring", **INTERNAL}),
    "sampling": GroupPolicy(frozenset({"duckdb"}), {"layer": "sampling", **INTERNAL}),
    "effectiveness": GroupPolicy(frozenset({"duckdb"}), {"layer": "effectiveness", **INTERNAL}),
    "publicity": GroupPolicy(frozenset({"duckdb", "csv"}), {"layer": "export", "confidentiality": "public"}),
    "reporting": GroupPolicy(frozenset({"duckdb"}), {"layer": "reporting", **INTERNAL}),
    "publish": GroupPolicy(frozenset({"duckdb", "parquet"}), {"layer": "mart"}),
}


def apply(spec: dg.AssetSpec) -> dg.AssetSpec:
    """The spec with the global owners and its group's kinds and tags (its own, where it declares any)."""
    if spec.group_name not in GROUPS:
        raise ValueError(f"asset {spec.key.to_user_string()}: group {spec.group_name!r} has no policy in {__name__}")
    group = GROUPS[spec.group_name]
    own_tags = {k: v for k, v in spec.tags.items() if not k.startswith("dagster/kind/")}
    return spec.replace_attributes(
        owners=list(OWNERS),
        kinds=set(spec.kinds) or set(group.kinds),
        tags=own_tags or dict(group.tags),
    )
