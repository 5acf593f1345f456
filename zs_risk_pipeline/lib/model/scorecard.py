"""Cold-start points scorecard (冷启动评分卡): config/scorecard.yaml as transparent, explainable points.

- `load_scorecard(path)` reads and validates the YAML: every rule names an indicator of reference/indicators.csv
  and a condition of the mini-language below; a bad rule is refused with an error naming it.
- `Scorecard.score(df)` adds the points of every matching rule to the base score (higher = riskier) and
  returns the top-3 matching rules of each row as its reasons (评分理由).
- `Scorecard.probability(points)` maps points to a problem-found probability with the PDO scaling of
  methods.md §1.5, so the scorecard can be compared with a model on Brier as well as on AUC.

The condition mini-language (shared with config/tier_policy.yaml): ">= x", "> x", "== x", "<= x", "< x" and
"between [a, b]" (both bounds included). A NULL (NaN) indicator value never matches any condition.

Plain Python, no Dagster; scoring is vectorised with numpy.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from zs_risk_pipeline.lib.core import resources
from zs_risk_pipeline.lib.features.enterprise_monthly import Indicator, indicators

CONFIG_PATH = resources.config_file("scorecard.yaml")
TOP_REASONS = 3

_NUM = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
_COMPARE = re.compile(rf"^\s*(>=|<=|==|>|<)\s*({_NUM})\s*$")
_BETWEEN = re.compile(rf"^\s*between\s*\[\s*({_NUM})\s*,\s*({_NUM})\s*\]\s*$", re.IGNORECASE)
_RULE_KEYS = {"indicator", "condition", "points", "reason_en", "reason_zh"}


@dataclass(frozen=True)
class Condition:
    """One indicator condition, e.g. `penalties_12m >= 1` (指标条件)."""

    indicator: str
    op: str  # >=, >, ==, <=, <, between
    low: float  # the threshold; the lower bound for between
    high: float  # the upper bound for between; equal to low otherwise

    @property
    def text(self) -> str:
        if self.op == "between":
            return f"{self.indicator} between [{self.low:g}, {self.high:g}]"
        return f"{self.indicator} {self.op} {self.low:g}"

    def mask(self, values: np.ndarray) -> np.ndarray:
        """Rows where the condition holds; comparisons with NaN are False, so NULL never matches."""
        with np.errstate(invalid="ignore"):
            if self.op == ">=":
                return values >= self.low
            if self.op == ">":
                return values > self.low
            if self.op == "==":
                return values == self.low
            if self.op == "<=":
                return values <= self.low
            if self.op == "<":
                return values < self.low
            return (values >= self.low) & (values <= self.high)


def parse_condition(indicator: Any, condition: Any, where: str, catalogue: dict[str, Indicator]) -> Condition:
    """Parse and validate one condition; `where` names the rule in the error message."""
    if not isinstance(indicator, str) or indicator not in catalogue:
        raise ValueError(f"{where}: unknown indicator {indicator!r} (not in reference/indicators.csv)")
    if not isinstance(condition, str):
        raise ValueError(f"{where}: condition must be a string such as '>= 1', got {condition!r}")
    if m := _COMPARE.match(condition):
        value = float(m.group(2))
        return Condition(indicator, m.group(1), value, value)
    if m := _BETWEEN.match(condition):
        low, high = float(m.group(1)), float(m.group(2))
        if low > high:
            raise ValueError(f"{where}: condition {condition!r} has a lower bound above the upper bound")
        return Condition(indicator, "between", low, high)
    raise ValueError(
        f"{where}: bad condition {condition!r} for {indicator}; "
        "use '>= x', '> x', '== x', '<= x', '< x' or 'between [a, b]'"
    )


def _text(value: Any, field: str, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{where}: {field} must be a non-empty text")
    return value.strip()


def _number(value: Any, field: str, where: str) -> float:
    # bool is an int in Python: refuse it, `points: yes` is a typo rather than 1 point.
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{where}: {field} must be a finite number, got {value!r}")
    return float(value)


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
    """Read and validate config/scorecard.yaml (or `path`)."""
    path = path or CONFIG_PATH
    doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    name = path.name
    if not isinstance(doc, dict):
        raise ValueError(f"{name}: expected a mapping at the top level")
    version = doc.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ValueError(f"{name}: version must be a positive integer, got {version!r}")
    base = _number(doc.get("base"), "base", name)
    cold = doc.get("cold_start") or {}
    min_labels = cold.get("min_labels") if isinstance(cold, dict) else None
    if isinstance(min_labels, bool) or not isinstance(min_labels, int) or min_labels < 0:
        raise ValueError(f"{name}: cold_start.min_labels must be a non-negative integer, got {min_labels!r}")
    scaling = doc.get("scaling")
    if not isinstance(scaling, dict):
        raise ValueError(f"{name}: scaling must be a mapping with pdo, ref_points and ref_odds")
    pdo = _number(scaling.get("pdo"), "scaling.pdo", name)
    ref_points = _number(scaling.get("ref_points"), "scaling.ref_points", name)
    ref_odds = _number(scaling.get("ref_odds"), "scaling.ref_odds", name)
    if pdo <= 0 or ref_odds <= 0:
        raise ValueError(f"{name}: scaling.pdo and scaling.ref_odds must be positive")

    catalogue = {i.name: i for i in indicators()}
    raw_rules = doc.get("rules")
    if not isinstance(raw_rules, list) or not raw_rules:
        raise ValueError(f"{name}: rules must be a non-empty list")
    rules: list[Rule] = []
    seen: dict[str, str] = {}
    for i, raw in enumerate(raw_rules, start=1):
        label = raw.get("indicator") if isinstance(raw, dict) else None
        where = f"{name} rule {i} ({label})" if label else f"{name} rule {i}"
        if not isinstance(raw, dict):
            raise ValueError(f"{where}: expected a mapping with {sorted(_RULE_KEYS)}")
        unknown = sorted(set(raw) - _RULE_KEYS)
        missing = sorted(_RULE_KEYS - set(raw))
        if unknown or missing:
            raise ValueError(f"{where}: unknown keys {unknown}, missing keys {missing}")
        cond = parse_condition(raw["indicator"], raw["condition"], where, catalogue)
        # The same condition twice is almost surely a copy-paste slip: it would double-count silently.
        if cond.text in seen:
            raise ValueError(f"{where}: repeats the condition {cond.text!r} of {seen[cond.text]}")
        seen[cond.text] = where
        rules.append(
            Rule(
                condition=cond,
                points=_number(raw["points"], "points", where),
                reason_en=_text(raw["reason_en"], "reason_en", where),
                reason_zh=_text(raw["reason_zh"], "reason_zh", where),
                name_zh=catalogue[cond.indicator].name_zh,
            )
        )
    return Scorecard(
        version=version,
        base=base,
        rules=tuple(rules),
        min_labels=min_labels,
        pdo=pdo,
        ref_points=ref_points,
        ref_odds=ref_odds,
    )
