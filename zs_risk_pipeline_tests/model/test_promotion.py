"""The promotion gate decides on what the inspections need: the expected problems found at the plans' budget.

A holdout is built by hand so that one scorer orders the low-risk firms well (a high AUC) but puts fewer true
problems into the tiers the ratios inspect, and the other the reverse; the gate, through `evaluate` and `decide`
as the month's model step calls them, must prefer the one that finds more. Plus a hand computation of the hit
rate at budget, overrides included, and the budget the plans of config/sampling_plans.yaml give."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pandas as pd
import pytest

from zs_risk_pipeline.lib.model import model_config, promotion, training
from zs_risk_pipeline.lib.sampling import plan_policy
from zs_risk_pipeline.lib.tiers import tier_policy

CONFIG = model_config.load_config()
# The pinned plans: MR-GENERAL alone covers the whole city, A/B/C/D "0.03"/"0.05"/"0.15"/"0.60" a year, monthly.
RATIOS = plan_policy.monthly_ratios(plan_policy.city_plans(plan_policy.load_plans()))
# Target shares 0.40/0.45/0.10/0.05; no overrides, so the scorers alone place the firms.
SHARES_ONLY = dataclasses.replace(tier_policy.load_policy(), overrides=())

# A city of 1,000 firms; every 5th is on the holdout (π = 0.2, weight 5). Each scorer ranks the population
# 1000, 999, ... and the holdout firm it ranks j-th sits at population rank 5j: the target shares put its
# holdout ranks 0-9 in D, 10-29 in C, 30-119 in B and 120-199 in A, so the tiers below hold exactly the counts.
POPULATION = pd.DataFrame({"uscc": [f"U{i:017d}" for i in range(1000)]})
POPULATION_POINTS = 1000.0 - np.arange(1000)
HOLDOUT_WEIGHT = 5.0


def scorer_with(problems_clean: list[tuple[int, int]], shuffle: int | None = None) -> dict:
    """`evaluate` of a scorer whose tiers D, C, B, A hold these (problems, clean) holdout inspections; within a
    tier the problems rank first, or in the order of the seeded `shuffle` (which leaves its tiers as they are)."""
    y = np.concatenate([np.r_[np.ones(p), np.zeros(c)] for p, c in problems_clean])
    if shuffle is not None:
        rng = np.random.default_rng(shuffle)
        bounds = np.cumsum([0] + [p + c for p, c in problems_clean])
        y = np.concatenate([rng.permutation(y[a:b]) for a, b in itertools.pairwise(bounds)])
    points = 1000.0 - 5.0 * np.arange(len(y))
    scored = training.Scored(points, 1.0 / (1.0 + np.exp(-(points - 700.0) / 100.0)), points, pd.DataFrame())
    weight = np.full(len(y), HOLDOUT_WEIGHT)
    return training.evaluate(
        y, weight, scored, pd.DataFrame(index=range(len(y))), POPULATION_POINTS, POPULATION, SHARES_ONLY, RATIOS
    )


# 40 problems in 200 inspections either way.
# Ranks the low-risk firms well (all 25 problems of B above every clean firm of B and A), but only 6 in D.
SHARP_BELOW = [(6, 4), (9, 11), (25, 65), (0, 80)]
# Puts 9 problems in D, and orders nothing within a tier.
SHARP_AT_THE_TOP = [(9, 1), (6, 14), (15, 75), (10, 70)]
# A weak baseline.
WEAK = [(3, 7), (5, 15), (18, 72), (14, 66)]


@pytest.fixture(scope="module")
def sharp_below() -> dict:
    return scorer_with(SHARP_BELOW)


@pytest.fixture(scope="module")
def sharp_at_the_top() -> dict:
    return scorer_with(SHARP_AT_THE_TOP, shuffle=1)


@pytest.fixture(scope="module")
def weak() -> dict:
    return scorer_with(WEAK, shuffle=2)


def test_the_construction_is_what_it_claims(sharp_below: dict, sharp_at_the_top: dict) -> None:
    # Same budget for both: the target shares give every scorer 400/450/100/50 firms, inspected at RATIOS.
    for m in (sharp_below, sharp_at_the_top):
        assert m["population_by_tier"] == {"A": 400, "B": 450, "C": 100, "D": 50}
        assert m["labels_by_tier"] == {"A": 80, "B": 90, "C": 20, "D": 10}
        assert m["tiers_increasing"]
    budget = 400 * 0.03 / 12 + 450 * 0.05 / 12 + 100 * 0.15 / 12 + 50 * 0.60 / 12  # 6.625 inspections a month
    # Each tier's inspections × its holdout rate (all weights equal, so the plain share of problems).
    below = (1.0 * 0.0 + 1.875 * 25 / 90 + 1.25 * 9 / 20 + 2.5 * 6 / 10) / budget
    top = (1.0 * 10 / 80 + 1.875 * 15 / 90 + 1.25 * 6 / 20 + 2.5 * 9 / 10) / budget
    assert sharp_below["found_at_budget"]["budget"] == pytest.approx(budget)
    assert sharp_at_the_top["found_at_budget"]["budget"] == pytest.approx(budget)
    assert sharp_below["found_at_budget"]["hit_rate"] == pytest.approx(below)  # 0.390
    assert sharp_at_the_top["found_at_budget"]["hit_rate"] == pytest.approx(top)  # 0.462
    assert sharp_below["auc"] > sharp_at_the_top["auc"] + 0.2  # 0.936 against 0.691


def test_a_challenger_with_the_higher_auc_that_finds_fewer_problems_is_refused(
    sharp_below: dict, sharp_at_the_top: dict, weak: dict
) -> None:
    """The issue's acceptance test: the higher AUC does not win when it finds fewer problems at budget."""
    assert CONFIG.decide_on == "found_at_budget"  # the default
    promote, reasons = promotion.decide(sharp_below, sharp_at_the_top, weak, CONFIG)
    assert not promote
    mine, theirs = sharp_below["found_at_budget"]["hit_rate"], sharp_at_the_top["found_at_budget"]["hit_rate"]
    assert reasons == [
        f"expected problems found at the plans' budget {mine:.4f} per inspection is worse than the champion's "
        f"{theirs:.4f} by more than the tolerance 2.0% (at least {theirs * 0.98:.4f} needed)"
    ]
    line = promotion.verdict(sharp_below, sharp_at_the_top, weak, CONFIG)
    assert line.startswith(
        f"decided on expected problems found at the plans' budget per inspection: challenger {mine:.4f}, "
        f"champion {theirs:.4f}, scorecard {weak['found_at_budget']['hit_rate']:.4f}; reported: weighted AUC: "
        f"challenger {sharp_below['auc']:.4f}, champion {sharp_at_the_top['auc']:.4f}"
    )
    # Deciding on AUC, as before, it would have been promoted.
    assert promotion.decide(sharp_below, sharp_at_the_top, weak, dataclasses.replace(CONFIG, decide_on="auc"))[0]


def test_a_challenger_with_the_lower_auc_that_finds_more_is_promoted_unless_auc_decides(
    sharp_below: dict, sharp_at_the_top: dict, weak: dict
) -> None:
    assert promotion.decide(sharp_at_the_top, sharp_below, weak, CONFIG) == (True, [])
    by_auc = dataclasses.replace(CONFIG, decide_on="auc")
    promote, reasons = promotion.decide(sharp_at_the_top, sharp_below, weak, by_auc)
    assert not promote
    assert reasons == [
        f"weighted AUC {sharp_at_the_top['auc']:.4f} is worse than the champion's {sharp_below['auc']:.4f} by more "
        f"than the tolerance 0.005 (at least {sharp_below['auc'] - 0.005:.4f} needed)"
    ]
    assert promotion.verdict(sharp_at_the_top, sharp_below, weak, by_auc).startswith(
        f"decided on weighted AUC: challenger {sharp_at_the_top['auc']:.4f}, champion {sharp_below['auc']:.4f}"
    )


def test_the_hit_rate_at_budget_by_hand_with_an_override() -> None:
    """20 firms scored 20, 19, ..., 1; target shares give D 1 firm, C 2, B 9, A 8. Firm 15 (tier A by score) is
    on the serious-dishonest list: the override sets it to D, so D has 2 firms and A 7, in the population and on
    the holdout alike, since the plans draw from the published tiers."""
    policy = tier_policy.load_policy()  # the pinned overrides
    population = pd.DataFrame(
        {
            "age_years": 5.0,  # not a new firm
            "inspections_36m": 1.0,
            "penalties_36m": 0.0,
            "complaints_12m": 0.0,
            "abnormal_listed_now": 0.0,
            "dishonest_listed_now": (np.arange(20) == 15).astype("float64"),
            "uscc": [f"U{i:017d}" for i in range(20)],
        }
    )
    points = 20.0 - np.arange(20)
    inspected = [0, 1, 5, 7, 12, 15]  # tiers after the override: D, C, B, B, A, D
    y = np.array([1.0, 1.0, 0.0, 1.0, 0.0, 0.0])
    w = np.array([2.0, 4.0, 10.0, 10.0, 20.0, 2.0])  # 1/π of the plans that drew them
    hold = population.loc[inspected].reset_index(drop=True)
    p = points[inspected]
    scored = training.Scored(p, np.full(len(p), 0.5), p, pd.DataFrame(index=hold.index))
    ratios = {"A": 0.01, "B": 0.02, "C": 0.10, "D": 0.50}
    got = training.evaluate(y, w, scored, hold, points, population, policy, ratios)

    assert got["population_by_tier"] == {"A": 7, "B": 9, "C": 2, "D": 2}
    # Weighted rates: D (2·1 + 2·0)/4 = 0.5, C 1, B (10·0 + 10·1)/20 = 0.5, A 0/20 = 0.
    # Inspections a month: A 7·0.01 = 0.07, B 9·0.02 = 0.18, C 2·0.10 = 0.2, D 2·0.50 = 1.0; 1.45 in all.
    # Found: 0.07·0 + 0.18·0.5 + 0.2·1 + 1.0·0.5 = 0.79.
    assert got["found_at_budget"] == pytest.approx({"found": 0.79, "budget": 1.45, "hit_rate": 0.79 / 1.45})
    # The tier ordering is still judged on the tiers by score, firm 15 in A.
    assert got["problem_rate_by_tier"] == pytest.approx({"A": 0.0, "B": 0.5, "C": 1.0, "D": 1.0})
    # Without the override: A 8 firms at 0, D 1 firm at 1.0, so 0.08 + 0.18 + 0.2 + 0.5 = 0.96 inspections.
    by_score = training.evaluate(y, w, scored, hold, points, population, SHARES_ONLY, ratios)
    assert by_score["found_at_budget"] == pytest.approx({"found": 0.79, "budget": 0.96, "hit_rate": 0.79 / 0.96})


def test_the_budget_is_that_of_the_plans_covering_the_whole_city() -> None:
    plans = plan_policy.load_plans()
    assert [p.id for p in plan_policy.city_plans(plans)] == ["MR-GENERAL"]
    assert pytest.approx({"A": 0.03 / 12, "B": 0.05 / 12, "C": 0.15 / 12, "D": 0.60 / 12}) == RATIOS
    # A second whole-city plan adds its ratios, whatever its batches (the draw gives ratio / k in each of k);
    # a tier it does not draw (无事不扰) adds nothing.
    general = plan_policy.city_plans(plans)[0]
    quarterly = dataclasses.replace(
        general,
        id="MR-EXTRA",
        months=(3, 6, 9, 12),
        tiers={t: plan_policy.TierRule("0.12", (3, 6, 9, 12)) for t in ("B", "C", "D")},
    )
    both = plan_policy.monthly_ratios([general, quarterly])
    assert both == pytest.approx({"A": 0.03 / 12, "B": 0.17 / 12, "C": 0.27 / 12, "D": 0.72 / 12})
    assert plan_policy.monthly_ratios([]) == {}


def test_without_a_plan_covering_the_city_found_at_budget_cannot_decide(sharp_at_the_top: dict) -> None:
    unmeasured = {**sharp_at_the_top, "found_at_budget": {"found": 0.0, "budget": 0.0, "hit_rate": float("nan")}}
    promote, reasons = promotion.decide(unmeasured, None, unmeasured, CONFIG)
    assert not promote
    assert reasons == [
        "expected problems found at the plans' budget undefined: no plan of config/sampling_plans.yaml covers the "
        "whole city, so the plans' budget is 0"
    ]
    assert promotion.decide(unmeasured, None, unmeasured, dataclasses.replace(CONFIG, decide_on="auc"))[0]
