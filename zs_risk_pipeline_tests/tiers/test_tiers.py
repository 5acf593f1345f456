"""The tier policy: config validation, exact target-share counts, cut-offs, overrides, determinism."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from zs_risk_pipeline.lib.tiers.tier_policy import assign_tiers, load_policy, share_counts
from zs_risk_pipeline_tests.conftest import policy_file, yaml_variant

COLUMNS = ("age_years", "inspections_36m", "penalties_36m", "complaints_12m", "abnormal_listed_now")
COLUMNS += ("dishonest_listed_now",)


def neutral(n: int) -> pd.DataFrame:
    """Feature rows no default override matches: old firms, not listed."""
    return pd.DataFrame({c: np.zeros(n) for c in COLUMNS}).assign(age_years=5.0)


def write_variant(tmp_path: Path, edit) -> Path:
    return yaml_variant(tmp_path, policy_file("tier_policy.yaml"), edit)


def test_default_policy() -> None:
    policy = load_policy()
    assert policy.method == "target_shares"
    assert policy.target_shares == {"A": 0.40, "B": 0.45, "C": 0.10, "D": 0.05}
    assert [o.name for o in policy.overrides] == ["new_firm_no_history", "abnormal_list", "serious_dishonest_list"]
    assert all(o.reason_en and o.reason_zh for o in policy.overrides)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda d: d["overrides"][1]["when"].update(indicator="nope"),
            r"override 2 \(abnormal_list\) when: unknown indicator 'nope'",
        ),
        (
            lambda d: d["overrides"][0]["when"][1].update(condition="=< 1"),
            r"override 1 \(new_firm_no_history\) when: condition 2: bad condition '=< 1'",
        ),
        (
            lambda d: d["overrides"][2].update(action="raise"),
            r"override 3 \(serious_dishonest_list\) action: .*'raise'",
        ),
        (lambda d: d["overrides"][2].update(tier="E"), r"override 3 .* tier: must be one of 'A', 'B', 'C' or 'D'"),
        (lambda d: d["overrides"][2].update(reason_zh=" "), r"override 3 .* reason_zh: must be a non-empty text"),
        (lambda d: d["overrides"][2].update(colour="red"), r"override 3 .* colour: unknown key \(allowed: action"),
        (lambda d: d["overrides"].append(dict(d["overrides"][0])), r"overrides: names must be unique"),
        (
            lambda d: d.update(target_shares={"A": 0.5, "B": 0.45, "C": 0.1, "D": 0.05}),
            r"^tier_policy\.yaml: target_shares: must be non-negative and sum to 1",
        ),
        (lambda d: d["target_shares"].pop("D"), r"target_shares\.D: is required"),
        (lambda d: d["target_shares"].update(D="0.05"), r"target_shares\.D: must be a number, got '0.05'"),
        (lambda d: d.update(cutoffs={"B": 50, "C": 40, "D": 80}), r"cutoffs: must not decrease from B to D"),
        (
            lambda d: d.update(method="quantiles"),
            r"method: must be one of 'target_shares' or 'cutoffs', got 'quantiles'",
        ),
        (lambda d: d.update(share_tolerance=True), r"share_tolerance: must be a number, got True"),
        (lambda d: d.update(share_tolerance=1.5), r"share_tolerance: must be a number in \[0, 1\], got 1.5"),
        (lambda d: d.update(version=0), r"version: must be a positive integer, got 0"),
    ],
)
def test_bad_policy_is_refused(tmp_path: Path, edit, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        load_policy(write_variant(tmp_path, edit))


def test_share_counts_largest_remainder() -> None:
    shares = load_policy().target_shares
    # 1003 × (0.40, 0.45, 0.10, 0.05) = 401.2, 451.35, 100.3, 50.15: the one left over goes to B (.35).
    assert share_counts(1003, shares) == {"A": 401, "B": 452, "C": 100, "D": 50}
    for n in (0, 1, 2, 7, 19, 1003, 99_999):
        counts = share_counts(n, shares)
        assert sum(counts.values()) == n
        assert all(abs(counts[t] - shares[t] * n) < 1 for t in counts)


def test_target_shares_exact_counts_and_riskiest_in_d() -> None:
    policy = replace(load_policy(), overrides=())
    n = 1003
    rng = np.random.default_rng(7)
    scores = rng.integers(0, 60, n).astype(float)  # many ties across tier boundaries
    keys = np.array([f"9144200{i:011d}" for i in rng.permutation(n)])
    out = assign_tiers(scores, neutral(n), policy, keys=keys)
    assert out["tier"].value_counts().to_dict() == {"A": 401, "B": 452, "C": 100, "D": 50}
    assert (out["tier"] == out["tier_by_score"]).all() and out["override"].isna().all()
    rank = {"A": 0, "B": 1, "C": 2, "D": 3}
    code = out["tier"].map(rank).to_numpy()
    # Walking the ranking (-score, key) from the riskiest down, the tier never gets riskier again.
    order = np.lexsort((keys, -scores))
    assert (np.diff(code[order]) <= 0).all()
    assert scores[code == 3].min() >= scores[code < 3].max()


def test_overrides() -> None:
    policy = load_policy()
    n = 200
    scores = np.arange(n, dtype=float)  # row i has rank n-1-i: rows 190..199 are D, 170..189 C, 80..169 B
    feats = neutral(n)
    feats.loc[0, "dishonest_listed_now"] = 1  # safest score → D
    feats.loc[1, "abnormal_listed_now"] = 1  # A → C
    feats.loc[199, "abnormal_listed_now"] = 1  # a D stays D
    feats.loc[100, "abnormal_listed_now"] = 1  # B → C
    feats.loc[[2, 195], "age_years"] = 0.3  # new firms without history → B (also from D)
    feats.loc[3, ["age_years", "penalties_36m"]] = [0.3, 1]  # a new firm with a penalty keeps its tier
    feats.loc[4, ["age_years", "abnormal_listed_now"]] = [0.3, 1]  # the later abnormal rule wins: C
    feats.loc[5, "age_years"] = np.nan  # NULL never matches
    out = assign_tiers(scores, feats, policy, keys=np.arange(n))
    expect = {
        0: ("A", "D", "serious_dishonest_list"),
        1: ("A", "C", "abnormal_list"),
        199: ("D", "D", None),
        100: ("B", "C", "abnormal_list"),
        2: ("A", "B", "new_firm_no_history"),
        195: ("D", "B", "new_firm_no_history"),
        3: ("A", "A", None),
        4: ("A", "C", "abnormal_list"),
        5: ("A", "A", None),
    }
    for i, (by_score, tier, override) in expect.items():
        assert tuple(out.loc[i, ["tier_by_score", "tier", "override"]]) == (by_score, tier, override), i
    reasons = {o.name: o for o in policy.overrides}
    assert out.loc[0, "override_reason_zh"] == reasons["serious_dishonest_list"].reason_zh
    assert out.loc[1, "override_reason_en"] == reasons["abnormal_list"].reason_en
    assert out.loc[199, "override_reason_en"] is None
    untouched = ~out.index.isin(list(expect))
    assert (out.loc[untouched, "tier"] == out.loc[untouched, "tier_by_score"]).all()


def test_at_most_caps_the_tier(tmp_path: Path) -> None:
    def edit(doc: dict) -> None:
        doc["overrides"] = [
            {
                "name": "cap",
                "when": {"indicator": "complaints_12m", "condition": "between [1, 2]"},
                "action": "at_most",
                "tier": "B",
                "reason_en": "capped",
                "reason_zh": "上限",
            }
        ]
        doc["method"] = "cutoffs"

    policy = load_policy(write_variant(tmp_path, edit))
    feats = neutral(3).assign(complaints_12m=[1.0, 2.0, 3.0])
    out = assign_tiers(np.array([100.0, 0.0, 100.0]), feats, policy)
    assert out["tier"].tolist() == ["B", "A", "D"]
    assert out["override"].tolist() == ["cap", None, None]


def test_cutoffs_method() -> None:
    policy = replace(load_policy(), method="cutoffs", overrides=())
    c = policy.cutoffs
    scores = np.array([c["B"] - 1, c["B"], c["C"] - 0.5, c["C"], c["D"] - 1e-9, c["D"], c["D"] + 100, -5])
    out = assign_tiers(scores, neutral(len(scores)), policy)
    assert out["tier"].tolist() == ["A", "B", "B", "C", "C", "D", "D", "A"]


def test_deterministic_and_independent_of_row_order() -> None:
    policy = load_policy()
    n = 500
    rng = np.random.default_rng(11)
    scores = rng.integers(0, 10, n).astype(float)
    keys = np.array([f"K{i:05d}" for i in range(n)])
    feats = neutral(n).assign(abnormal_listed_now=(rng.random(n) < 0.1).astype(float))
    first = assign_tiers(scores, feats, policy, keys=keys)
    pd.testing.assert_frame_equal(first, assign_tiers(scores.copy(), feats.copy(), policy, keys=keys.copy()))
    # Ties are broken by the key, not by row position: shuffled rows get the same tiers.
    perm = rng.permutation(n)
    shuffled = assign_tiers(scores[perm], feats.iloc[perm], policy, keys=keys[perm])
    pd.testing.assert_frame_equal(shuffled.sort_index(), first)


def test_bad_inputs() -> None:
    policy = load_policy()
    with pytest.raises(ValueError, match="finite"):
        assign_tiers(np.array([1.0, np.nan]), neutral(2), policy)
    with pytest.raises(ValueError, match="shape"):
        assign_tiers(np.zeros(3), neutral(2), policy)
    with pytest.raises(KeyError, match="dishonest_listed_now"):
        assign_tiers(np.zeros(2), neutral(2).drop(columns="dishonest_listed_now"), policy)


def test_share_report_against_the_policy() -> None:
    from zs_risk_pipeline.lib.tiers.tier_policy import share_report

    policy = load_policy()
    exact = np.array(["A"] * 40 + ["B"] * 45 + ["C"] * 10 + ["D"] * 5)
    assert share_report(exact, policy)["within"]
    moved = exact.copy()
    moved[85:89] = "B"  # four firms of C moved to B by an override: C 6 %, 4 points below its target
    report = share_report(moved, policy)
    assert not report["within"] and report["gaps"]["C"] == pytest.approx(-0.04)
