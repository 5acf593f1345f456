"""The policy folder (政策口径目录) as one validated object: `load_policy_folder(folder) -> Policy`.

Every file of the folder is validated by its model (lib/policy/<file>.py) at once, so a run that starts has a
whole, valid policy or stops with one line naming the file and the field. The result is cached by the folder and
the SHA-256 of every file in it: a run validates its folder once, and an edit is seen at the next call.

`current()` is the Policy of the folder in use ($ZS_RISK_CONFIG, or the shipped config/; lib/core/resources.py).

Plain Python, no Dagster.
"""

from __future__ import annotations

import functools
import hashlib
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zs_risk_pipeline.lib.core import resources
from zs_risk_pipeline.lib.policy import base
from zs_risk_pipeline.lib.policy.allocation import AllocationFile, AllocationPolicy
from zs_risk_pipeline.lib.policy.deliveries import DeliveryPolicy
from zs_risk_pipeline.lib.policy.features import FeaturePolicy
from zs_risk_pipeline.lib.policy.hotspots import HotspotPolicy, HotspotsFile
from zs_risk_pipeline.lib.policy.model import ModelConfig, ModelFile
from zs_risk_pipeline.lib.policy.monitoring import FeatureDrift, MonitoringFile, MonitoringPolicy
from zs_risk_pipeline.lib.policy.publicity import PublicityConfig, PublicityFile
from zs_risk_pipeline.lib.policy.sampling_plans import SamplingPlan, SamplingPlansFile
from zs_risk_pipeline.lib.policy.scorecard import ScorecardFile
from zs_risk_pipeline.lib.policy.tiers import TierPolicy, TierPolicyFile
from zs_risk_pipeline.lib.policy.warning_rules import Rule, WarningRulesFile

if TYPE_CHECKING:
    from zs_risk_pipeline.lib.model.scorecard import Scorecard

# Each YAML policy file and its model, in the order the folder is validated.
MODELS: dict[str, type[base.StrictModel]] = {
    "allocation.yaml": AllocationFile,
    "deliveries.yaml": DeliveryPolicy,
    "features.yaml": FeaturePolicy,
    "hotspots.yaml": HotspotsFile,
    "model.yaml": ModelFile,
    "monitoring.yaml": MonitoringFile,
    "publicity.yaml": PublicityFile,
    "sampling_plans.yaml": SamplingPlansFile,
    "scorecard.yaml": ScorecardFile,
    "tier_policy.yaml": TierPolicyFile,
    "warning_rules.yaml": WarningRulesFile,
}
ALLOWLIST = "uscc_allowlist.csv"  # read by DuckDB at ingest (staging.prepare), not validated here
_CACHE_SIZE = 8  # folders kept validated (a run reads one; tests try a few)
_LOCK = threading.Lock()  # one validation of a folder at a time, so it is validated once


@dataclass(frozen=True)
class Policy:
    """A validated policy folder: the domain objects every reader takes, and the hashes outputs record.

    The domain objects are built once per Policy; treat them as read-only (a caller that wants a variant makes a
    copy, e.g. with dataclasses.replace)."""

    folder: Path
    files: Mapping[str, base.StrictModel]  # file name → its validated model
    hashes: Mapping[str, str]  # file name → SHA-256 of its canonical content, for every *.yaml of the folder
    digests: Mapping[str, str]  # file name → SHA-256 of its bytes, for every *.yaml of the folder

    def _file(self, name: str) -> Any:
        return self.files[name]

    @functools.cached_property
    def allocation(self) -> AllocationPolicy:
        return self._file("allocation.yaml").build()

    @property
    def deliveries(self) -> DeliveryPolicy:
        return self._file("deliveries.yaml")

    @property
    def features(self) -> FeaturePolicy:
        return self._file("features.yaml")

    @property
    def feature_drift(self) -> FeatureDrift:
        return self._file("monitoring.yaml").feature_drift

    @functools.cached_property
    def hotspots(self) -> HotspotPolicy:
        return self._file("hotspots.yaml").build()

    @functools.cached_property
    def model(self) -> ModelConfig:
        return self._file("model.yaml").build()

    @functools.cached_property
    def monitoring(self) -> MonitoringPolicy:
        return self._file("monitoring.yaml").model_monitoring.build()

    @functools.cached_property
    def publicity(self) -> PublicityConfig:
        return self._file("publicity.yaml").build()

    @functools.cached_property
    def sampling_plans(self) -> tuple[SamplingPlan, ...]:
        return self._file("sampling_plans.yaml").build()

    @functools.cached_property
    def scorecard(self) -> Scorecard:
        return self._file("scorecard.yaml").build(self.digests["scorecard.yaml"][:12])

    @functools.cached_property
    def tier_policy(self) -> TierPolicy:
        return self._file("tier_policy.yaml").build()

    @functools.cached_property
    def warning_rules(self) -> Mapping[str, Rule]:
        return self._file("warning_rules.yaml").build()

    @property
    def allowlist_csv(self) -> Path:
        return self.folder / ALLOWLIST


def load_policy_folder(folder: Path | str) -> Policy:
    """The policy folder validated as a whole; ConfigError when it lacks a file, PolicyError (one line, the first
    invalid file and field) when a file breaks a rule. Cached by the folder and its files' bytes."""
    folder = Path(folder).expanduser().resolve()
    if not folder.is_dir():
        raise resources.ConfigError(f"policy folder {folder} does not exist")
    missing = [name for name in resources.POLICY_FILES if not (folder / name).is_file()]
    if missing:
        raise resources.ConfigError(f"policy folder {folder} lacks {', '.join(missing)}")
    names = sorted({*MODELS, *(p.name for p in folder.glob("*.yaml") if p.is_file())})
    try:
        contents = tuple((name, (folder / name).read_bytes()) for name in names)
    except OSError as e:
        raise resources.ConfigError(f"policy folder {folder}: {e}") from None
    with _LOCK:
        return _validated(str(folder), contents)


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _validated(folder: str, contents: tuple[tuple[str, bytes], ...]) -> Policy:
    docs: dict[str, Any] = {}
    for name, data in contents:
        docs[name] = base.yaml_document(data, name, MODELS[name].error if name in MODELS else base.PolicyError)
    files = {
        name: base.validate(model, {} if docs[name] is None else docs[name], name) for name, model in MODELS.items()
    }
    return Policy(
        folder=Path(folder),
        files=files,
        hashes={name: base.canonical_hash(doc) for name, doc in docs.items()},
        digests={name: hashlib.sha256(data).hexdigest() for name, data in contents},
    )


def current() -> Policy:
    """The Policy of the folder in use: $ZS_RISK_CONFIG, or the shipped config/."""
    return load_policy_folder(resources.config_dir())
