"""Model registry (模型注册表) under $ZS_RISK_HOME/models/.

- `models/<model_id>/model.txt`: the LightGBM model as text; `entry.json` beside it: its SHA-256, parameters,
  feature list, training window, label counts, calibration and metrics.
- `models/decisions/<YYYY-MM>.json`: the champion/challenger decision of each month (which model serves from
  that month on, whether the challenger was promoted and why). Re-running a month replaces its decision.

The champion serving month M is the `champion_after` of the latest decision dated M or earlier: a backfill of
an old month never sees a model decided later. Loading a model verifies its file against the registered hash.
Plain Python, no Dagster.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zs_risk_pipeline.lib.core.month import Month

if TYPE_CHECKING:  # imported when a model is loaded: the publish and verify steps read the registry, never a booster
    import lightgbm as lgb


class RegistryError(RuntimeError):
    """A registered model is missing, altered, or its entry is inconsistent."""


def _write_atomic(path: Path, text: str) -> None:
    # Written aside and renamed: a crash never leaves half an entry or half a model.
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def clean_json(value: Any) -> Any:
    """Strict JSON: NaN/inf become null (an undefined metric), numpy scalars become Python numbers."""
    if isinstance(value, dict):
        return {str(k): clean_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean_json(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _dumps(doc: dict[str, Any]) -> str:
    return json.dumps(clean_json(doc), ensure_ascii=False, indent=2, sort_keys=True, allow_nan=False) + "\n"


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Registry:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def model_dir(self, model_id: str) -> Path:
        if not re.fullmatch(r"[A-Za-z0-9._-]+", model_id):
            raise RegistryError(f"invalid model id {model_id!r}")
        return self.root / model_id

    def save(self, model_text: str, entry: dict[str, Any], month: str) -> dict[str, Any]:
        """Register a model trained for `month`; the id is the month plus the model's hash (same model, same id)."""
        sha = sha256_text(model_text)
        model_id = f"lgbm-{month}-{sha[:12]}"
        entry = {**entry, "model_id": model_id, "sha256": sha, "trained_for_month": month, "file": "model.txt"}
        folder = self.model_dir(model_id)
        _write_atomic(folder / "model.txt", model_text)
        _write_atomic(folder / "entry.json", _dumps(entry))
        return entry

    def entry(self, model_id: str) -> dict[str, Any]:
        path = self.model_dir(model_id) / "entry.json"
        if not path.exists():
            raise RegistryError(f"model {model_id} is not registered (no {path})")
        return json.loads(path.read_text(encoding="utf-8"))

    def verify(self, model_id: str) -> list[str]:
        """Problems with a registered model: missing file, or a file whose SHA-256 is not the registered one."""
        try:
            entry = self.entry(model_id)
        except RegistryError as e:
            return [str(e)]
        path = self.model_dir(model_id) / entry.get("file", "model.txt")
        if not path.exists():
            return [f"model file {path} is missing"]
        actual = sha256_text(path.read_text(encoding="utf-8"))
        if actual != entry.get("sha256"):
            return [f"model file {path} has SHA-256 {actual}, the registry says {entry.get('sha256')}"]
        return []

    def load(self, model_id: str) -> tuple[lgb.Booster, dict[str, Any]]:
        """The booster and its entry, refusing a model whose file does not match the registered hash."""
        problems = self.verify(model_id)
        if problems:
            raise RegistryError("; ".join(problems))
        entry = self.entry(model_id)
        text = (self.model_dir(model_id) / entry["file"]).read_text(encoding="utf-8")
        import lightgbm as lgb

        return lgb.Booster(model_str=text), entry

    def record_decision(self, month: str, decision: dict[str, Any]) -> Path:
        if not Month.is_label(month):
            raise ValueError(f"month must be 'YYYY-MM', got {month!r}")
        path = self.root / "decisions" / f"{month}.json"
        _write_atomic(path, _dumps({**decision, "month": month}))
        return path

    def decisions(self) -> list[dict[str, Any]]:
        folder = self.root / "decisions"
        files = sorted(folder.glob("*.json")) if folder.exists() else []
        return [json.loads(f.read_text(encoding="utf-8")) for f in files]

    def decision(self, month: str) -> dict[str, Any] | None:
        path = self.root / "decisions" / f"{month}.json"
        return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None

    def champion_as_of(self, month: str) -> str | None:
        """The model serving `month` ('YYYY-MM'): the champion after the latest decision up to that month."""
        earlier = [d for d in self.decisions() if d["month"] <= month]
        return earlier[-1].get("champion_after") if earlier else None

    def last_trained_before(self, month: str) -> tuple[str, str] | None:
        """(month, model_id) of the latest challenger trained in a month before `month` ('YYYY-MM'), promoted or
        not: retraining waits for labels that arrived after it."""
        trained = [(d["month"], d["trained"]) for d in self.decisions() if d["month"] < month and d.get("trained")]
        return trained[-1] if trained else None
