"""Cold-start points scorecard (冷启动评分卡): config/scorecard.yaml as transparent, explainable points.

- `load_scorecard()` is the scorecard of the policy folder in use, validated with the rest of the folder by
  lib/policy (every rule names an indicator of reference/indicators.csv and a condition of the mini-language of
  lib/policy/conditions.py); `load_scorecard(path)` validates one file the same way.
- `Scorecard.score(df)` adds the points of every matching rule to the base score (higher = riskier) and
  returns the top-3 matching rules of each row as its reasons (评分理由).
- `Scorecard.probability(points)` maps points to a problem-found probability with the PDO scaling of
  methods.md §1.5, so the scorecard can be compared with a model on Brier as well as on AUC.

Plain Python, no Dagster; scoring is vectorised with numpy.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from zs_risk_pipeline.lib.policy import base, folder
from zs_risk_pipeline.lib.policy.conditions import Condition
from zs_risk_pipeline.lib.policy.scorecard import ScorecardFile

TOP_REASONS = 3


def feature_matrix(df: pd.DataFrame, columns: list[str], what: str) -> dict[str, np.ndarray]:
    """The named columns of `df` as float arrays (NULL → NaN); a missing column is an error naming it."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise KeyError(f"{what} needs the feature columns {missing}, which the data frame lacks")
    return {c: df[c].to_numpy(dtype="float64", na_value=np.nan) for c in dict.fromkeys(columns)}


@dataclass(frozen=True)
class Rule:
    """One scorecard rule: points added when the condition holds, with its reason (评分规则)."""

    condition: Condition
    points: float
    reason_en: str
    reason_zh: str
    name_zh: str  # the indicator's Chinese name, for the reasons shown to inspectors

    @property
    def indicator(self) -> str:
        return self.condition.indicator


@dataclass(frozen=True)
class Scorecard:
    """The validated points scorecard of config/scorecard.yaml."""

    version: int
    base: float
    rules: tuple[Rule, ...]
    min_labels: int
    pdo: float
    ref_points: float
    ref_odds: float
    digest: str = ""  # the first 12 hex digits of the SHA-256 of the file's bytes: the scorecard's version

    def rules_frame(self) -> pd.DataFrame:
        """The rules as a table, for publishing the scorecard next to its scores (评分卡公示)."""
        return pd.DataFrame(
            {
                "indicator": [r.indicator for r in self.rules],
                "name_zh": [r.name_zh for r in self.rules],
                "condition": [r.condition.text for r in self.rules],
                "points": [r.points for r in self.rules],
                "reason_en": [r.reason_en for r in self.rules],
                "reason_zh": [r.reason_zh for r in self.rules],
            }
        )

    def hits(self, df: pd.DataFrame) -> np.ndarray:
        """Boolean matrix rows × rules: which rules match each row."""
        values = feature_matrix(df, [r.indicator for r in self.rules], "the scorecard")
        out = np.zeros((len(df), len(self.rules)), dtype=bool)
        for j, rule in enumerate(self.rules):  # a loop over the few rules, each vectorised over all rows
            out[:, j] = rule.condition.mask(values[rule.indicator])
        return out

    def top_rules(self, df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Points of every row (base + matching rules; higher = riskier) and the indices of its top-3 rules.

        The top rules are the matching rules with the most points, ties broken by rule order; -1 pads rows
        with fewer than three matches.
        """
        hits = self.hits(df)
        points = np.array([r.points for r in self.rules], dtype="float64")
        total = self.base + hits.astype("float64") @ points
        # Rank the rules once (most points first, then rule order), then take each row's first 3 hits in it.
        priority = np.lexsort((np.arange(len(self.rules)), -points))
        ranked = hits[:, priority]
        seen = np.cumsum(ranked, axis=1)
        top = np.full((len(df), TOP_REASONS), -1, dtype=np.int64)
        for k in range(TOP_REASONS):
            kth = ranked & (seen == k + 1)
            found = kth.any(axis=1)
            top[found, k] = priority[np.argmax(kth[found], axis=1)]
        return total, top

    def score(self, df: pd.DataFrame) -> pd.DataFrame:
        """Points and the top-3 reasons (as lists of dicts) of every row of `df`.

        Rows with the same reasons share one list object: treat the lists as read-only.
        """
        total, top = self.top_rules(df)
        # Build the reason lists once per distinct top-3 combination, not once per row.
        combos, inverse = np.unique(top, axis=0, return_inverse=True)
        lists = np.empty(len(combos), dtype=object)
        for i, combo in enumerate(combos):
            lists[i] = [self._reason(int(j)) for j in combo if j >= 0]
        reasons = lists[inverse.reshape(-1)] if len(df) else np.empty(0, dtype=object)
        return pd.DataFrame({"points": total, "reasons": reasons}, index=df.index)

    def _reason(self, j: int) -> dict[str, Any]:
        rule = self.rules[j]
        return {
            "indicator": rule.indicator,
            "name_zh": rule.name_zh,
            "name_en": rule.indicator,
            "points": rule.points,
            "reason_en": rule.reason_en,
            "reason_zh": rule.reason_zh,
        }

    def probability(self, points: np.ndarray | float) -> np.ndarray:
        """Problem-found probability of `points` under the PDO scaling: odds = ref_odds · 2^((p − ref)/pdo)."""
        log_odds = math.log(self.ref_odds) + (np.asarray(points, dtype="float64") - self.ref_points) * (
            math.log(2.0) / self.pdo
        )
        return 1.0 / (1.0 + np.exp(-log_odds))

    def use_scorecard(self, n_labels: int) -> bool:
        """Cold start: the scorecard scores the city while fewer than `min_labels` outcomes are known."""
        return n_labels < self.min_labels


def load_scorecard(path: Path | None = None) -> Scorecard:
    """The scorecard of the policy folder in use, or of the file `path` (validated the same way)."""
    if path is None:
        return folder.current().scorecard
    return base.load_file(ScorecardFile, path).build(hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12])
