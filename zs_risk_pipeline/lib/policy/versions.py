"""Policy versions (政策口径版本): which operator policy files an output was computed with.

Operators edit config/*.yaml; a rerun under an edited policy must never restate a month silently. Every tier,
warning, frame and plan output therefore records the version of the policy files it depends on, and the publish
log says "policy changed" (and which files) when a re-published version was computed under another policy.

A policy file's hash is the SHA-256 of its parsed content in canonical JSON (sorted keys), so an edit of a
comment or of the layout is not a policy change, and any change of a value is. The version of a set of files is
the first 12 hex digits of the SHA-256 over their names and hashes. The hashes come from the validated policy
folder (lib/policy/folder.py): the folder in use, or the Policy a run was given.

Plain Python, no Dagster.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zs_risk_pipeline.lib.policy import base, folder

# The policy file of each role.
FILES = {
    "features": "features.yaml",  # which entities are in scope (a feature row, a tier)
    "scorecard": "scorecard.yaml",
    "model": "model.yaml",
    "tier_policy": "tier_policy.yaml",
    "warning_rules": "warning_rules.yaml",
    "sampling_plans": "sampling_plans.yaml",
    "allocation": "allocation.yaml",
}
# The promotion gate measures scorers at the sampling plans' budget: which model tiers a month depends on them too.
TIERS = ("features", "scorecard", "model", "tier_policy", "sampling_plans")
# What each output depends on: its own policy and everything upstream of it.
OUTPUTS: dict[str, tuple[str, ...]] = {
    "features": ("features",),
    "tiers": TIERS,
    "early_warnings": (*TIERS, "warning_rules"),
    "sampling": TIERS,  # sampling_plans.yaml among them
    "effectiveness": TIERS,  # tiers of the month before, and which plans are city-wide (sampling_plans.yaml)
    "allocation": (*TIERS, "allocation"),  # proposals of ratios (sampling/allocation)
    "source_records": (),  # what the sources delivered, as delivered: no policy file shapes it
}


@dataclass(frozen=True)
class PolicyVersion:
    version: str  # 12 hex digits
    files: dict[str, str]  # config file name → SHA-256 of its canonical content

    def as_json(self) -> dict[str, Any]:
        return {"version": self.version, "files": dict(self.files)}


def file_hash(path: Path) -> str:
    """SHA-256 of a YAML policy file's parsed content in canonical JSON (comments and layout do not count)."""
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise ValueError(f"policy file {path} cannot be read: {e}") from e
    return base.canonical_hash(base.yaml_document(data, Path(path).name))


def version_of(files: Mapping[str, str]) -> str:
    text = "".join(f"{name}:{sha}\n" for name, sha in sorted(files.items()))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def current(output: str, policy: folder.Policy | None = None) -> PolicyVersion:
    """The version of the policy files `output` (a key of OUTPUTS) depends on, in `policy` (default: the folder
    in use)."""
    try:
        roles = OUTPUTS[output]
    except KeyError:
        raise ValueError(f"unknown output {output!r}; known: {', '.join(OUTPUTS)}") from None
    policy = policy or folder.current()
    files = {f"config/{FILES[r]}": policy.hashes[FILES[r]] for r in roles}
    return PolicyVersion(version_of(files), files)


def changed_files(before: Mapping[str, str] | None, after: Mapping[str, str]) -> list[str]:
    """The policy files whose content differs between two versions (added or removed ones included)."""
    if before is None:
        return []
    return sorted(name for name in set(before) | set(after) if before.get(name) != after.get(name))
