"""The landing data contract (数据交换约定) as Python objects, read from reference/contract.yaml."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

REFERENCE_DIR = Path(__file__).resolve().parents[2] / "reference"


@dataclass(frozen=True)
class Column:
    name: str
    alias: str
    type: str
    required: bool
    enum: tuple[str, ...] | None = None
    future_ok: bool = False


@dataclass(frozen=True)
class Source:
    name: str
    title_zh: str
    description: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    unique_across_deliveries: bool = False

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def header_map(self) -> dict[str, str]:
        """Accepted header spelling → canonical column name (English names and Chinese aliases)."""
        out: dict[str, str] = {}
        for c in self.columns:
            out[c.name] = c.name
            out[c.alias] = c.name
        return out


@lru_cache(maxsize=1)
def sources() -> dict[str, Source]:
    doc = yaml.safe_load((REFERENCE_DIR / "contract.yaml").read_text(encoding="utf-8"))
    out: dict[str, Source] = {}
    for name, spec in doc["sources"].items():
        cols = tuple(
            Column(
                name=c["name"],
                alias=c["alias"],
                type=c["type"],
                required=bool(c["required"]),
                enum=tuple(str(v) for v in c["enum"]) if c.get("enum") else None,
                future_ok=bool(c.get("future_ok", False)),
            )
            for c in spec["columns"]
        )
        out[name] = Source(
            name=name,
            title_zh=spec["title_zh"],
            description=spec["description"],
            key=tuple(spec["key"]),
            columns=cols,
            unique_across_deliveries=bool(spec.get("unique_across_deliveries", False)),
        )
    return out


def source(name: str) -> Source:
    try:
        return sources()[name]
    except KeyError:
        raise KeyError(f"unknown source {name!r}; the contract defines {sorted(sources())}") from None
