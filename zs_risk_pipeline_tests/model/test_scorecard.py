"""The cold-start points scorecard: config validation, points = base + rule hits, top-3 reasons."""

from __future__ import annotations

import operator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from zs_risk_pipeline.lib.features.enterprise_monthly import indicators
from zs_risk_pipeline.lib.model.scorecard import load_scorecard
from zs_risk_pipeline_tests.conftest import policy_file, yaml_variant

CONFIG_PATH = policy_file("scorecard.yaml")

OPS = {">=": operator.ge, ">": operator.gt, "==": operator.eq, "<=": operator.le, "<": operator.lt}


def random_features(n: int, seed: int) -> pd.DataFrame:
    """Small integer counts and flags (many ties and hits), shares in [0, 1], some NULLs."""
    rng = np.random.default_rng(seed)
    data = {}
    for ind in indicators():
        if ind.max == 1 and ind.kind == "numeric":
            data[ind.name] = rng.choice([0.0, 0.2, 0.5, 0.8, 1.0], n)
        elif ind.kind == "binary":
            data[ind.name] = rng.integers(0, 2, n).astype(float)
        else:
            data[ind.name] = rng.integers(0, 12, n).astype(float)
    df = pd.DataFrame(data)
    df.loc[rng.random(n) < 0.05, "penalties_12m"] = np.nan
    return df


def reference_hits(row: pd.Series, raw_rules: list[dict]) -> list[tuple[float, int]]:
    """Brute force, straight from the YAML text: (points, rule index) of every matching rule."""
    out = []
    for j, rule in enumerate(raw_rules):
        value = row[rule["indicator"]]
        text = rule["condition"].strip()
        if pd.isna(value):
            continue
        if text.startswith("between"):
            low, high = (float(v) for v in text[len("between") :].strip(" []").split(","))
            match = low <= value <= high
        else:
            op, threshold = text.split()
            match = OPS[op](value, float(threshold))
        if match:
            out.append((float(rule["points"]), j))
    return out


def write_variant(tmp_path: Path, edit) -> Path:
    return yaml_variant(tmp_path, CONFIG_PATH, edit)


def test_default_config_loads_and_uses_catalogue_names() -> None:
    sc = load_scorecard()
    names = {i.name: i for i in indicators()}
    assert sc.rules and sc.min_labels > 0
    for rule in sc.rules:
        assert rule.indicator in names
        assert rule.name_zh == names[rule.indicator].name_zh
        assert rule.reason_en and rule.reason_zh
    assert list(sc.rules_frame().columns) == ["indicator", "name_zh", "condition", "points", "reason_en", "reason_zh"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("indicator", "no_such_indicator", "indicator: unknown indicator 'no_such_indicator'"),
        ("condition", "~ 3", "condition: bad condition '~ 3'"),
        ("condition", "between [3, 1]", "condition: condition 'between [3, 1]' has a lower bound above the upper"),
        ("points", "ten", "points: must be a number, got 'ten'"),
        ("points", True, "points: must be a number, got True"),
        ("points", float("inf"), "points: must be a finite number"),
        ("reason_zh", "", "reason_zh: must be a non-empty text"),
    ],
)
def test_bad_rule_is_refused_naming_it(tmp_path: Path, field: str, value: object, message: str) -> None:
    def edit(doc: dict) -> None:
        doc["rules"][2][field] = value

    with pytest.raises(ValueError, match=r"^scorecard\.yaml: rule 3 \(\w+\) ") as err:
        load_scorecard(write_variant(tmp_path, edit))
    assert message in str(err.value)


def test_unknown_key_and_duplicate_rule_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"rule 1 \(dishonest_listed_now\) weight: unknown key \(allowed: condition"):
        load_scorecard(write_variant(tmp_path, lambda d: d["rules"][0].update(weight=1)))
    with pytest.raises(ValueError, match=r"rule 35 \(dishonest_listed_now\): repeats the condition .* of rule 1"):
        load_scorecard(write_variant(tmp_path, lambda d: d["rules"].append(dict(d["rules"][0]))))
    with pytest.raises(ValueError, match=r"rule 2 \(dishonest_ever\) reason_en: is required"):
        load_scorecard(write_variant(tmp_path, lambda d: d["rules"][1].pop("reason_en")))
    with pytest.raises(ValueError, match=r"^scorecard\.yaml: scaling\.pdo: must be a number in \(0, inf\), got 0"):
        load_scorecard(write_variant(tmp_path, lambda d: d["scaling"].update(pdo=0)))
    with pytest.raises(ValueError, match=r"cold_start\.min_labels: must be a non-negative integer, got -1"):
        load_scorecard(write_variant(tmp_path, lambda d: d["cold_start"].update(min_labels=-1)))
    with pytest.raises(ValueError, match=r"rules: must not be empty|rules: .*at least 1"):
        load_scorecard(write_variant(tmp_path, lambda d: d.update(rules=[])))


def test_points_are_base_plus_hits_and_reasons_are_top3() -> None:
    sc = load_scorecard()
    raw_rules = yaml.safe_load(CONFIG_PATH.read_text(encoding="utf-8"))["rules"]
    df = random_features(300, seed=1)
    df.index = pd.RangeIndex(100, 400)  # the output keeps the input's index
    out = sc.score(df)
    assert list(out.columns) == ["points", "reasons"]
    assert out.index.equals(df.index)
    assert out["points"].dtype == np.float64
    for i, row in df.iterrows():
        hits = reference_hits(row, raw_rules)
        assert out.at[i, "points"] == pytest.approx(sc.base + sum(p for p, _ in hits))
        top = sorted(hits, key=lambda h: (-h[0], h[1]))[:3]  # most points, ties by rule order
        reasons = out.at[i, "reasons"]
        assert [(r["points"], r["reason_en"]) for r in reasons] == [(p, raw_rules[j]["reason_en"]) for p, j in top]
        for r in reasons:
            assert r["name_en"] == r["indicator"]
            assert set(r) == {"indicator", "name_zh", "name_en", "points", "reason_en", "reason_zh"}


def test_null_never_matches_and_clean_firm_has_base_points() -> None:
    sc = load_scorecard()
    clean = pd.DataFrame({i.name: [0.0] for i in indicators()})
    nulls = pd.DataFrame({i.name: [np.nan] for i in indicators()})
    both = pd.concat([clean, nulls], ignore_index=True)
    out = sc.score(both)
    assert out["points"].tolist() == [sc.base, sc.base]
    assert out["reasons"].tolist() == [[], []]


def test_missing_column_is_named() -> None:
    df = random_features(5, seed=2).drop(columns=["dishonest_listed_now"])
    with pytest.raises(KeyError, match="dishonest_listed_now"):
        load_scorecard().score(df)


def test_score_is_deterministic_and_empty_input_works() -> None:
    sc = load_scorecard()
    df = random_features(200, seed=3)
    pd.testing.assert_frame_equal(sc.score(df), sc.score(df.copy()))
    assert sc.score(df.iloc[:0]).empty


def test_probability_follows_pdo_scaling() -> None:
    sc = load_scorecard()
    p = sc.probability(np.array([sc.ref_points, sc.ref_points + sc.pdo]))
    odds = p / (1 - p)
    assert odds[0] == pytest.approx(sc.ref_odds)
    assert odds[1] == pytest.approx(2 * sc.ref_odds)  # pdo points double the odds
    assert sc.use_scorecard(sc.min_labels - 1) and not sc.use_scorecard(sc.min_labels)
