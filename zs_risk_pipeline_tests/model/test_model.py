"""The risk model: deterministic training, reasons that add up, monotone constraints, the promotion gate,
the registry's tamper evidence and point-in-time champions, cold start, and the labels of a synthetic city
(random inspections only, weighted 1/π, features of the month before)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb
import numpy as np
import pandas as pd
import pytest

import zs_risk_synth as synth
from zs_risk_pipeline.defs.model import assets as model_assets
from zs_risk_pipeline.defs.partitions import monthly
from zs_risk_pipeline.defs.resources import ZsRiskHome
from zs_risk_pipeline.lib.features import enterprise_monthly
from zs_risk_pipeline.lib.ingest import staging
from zs_risk_pipeline.lib.model import labels as model_labels
from zs_risk_pipeline.lib.model import metrics, model_config, promotion, scorecard, training
from zs_risk_pipeline.lib.model.registry import Registry, RegistryError
from zs_risk_pipeline.lib.sampling import plan_policy
from zs_risk_pipeline.lib.tiers import classify, tier_policy
from zs_risk_pipeline_tests.conftest import TEST_KEY
from zs_risk_synth import oracle

CATALOGUE = enterprise_monthly.indicators()
RATIOS = {"A": 0.03 / 12, "B": 0.05 / 12, "C": 0.15 / 12, "D": 0.60 / 12}  # MR-GENERAL's, in an average month
BY_NAME = {i.name: i for i in CATALOGUE}
END = "2024-12"


def fake_labels(n: int = 4000, months: int = 12, end: str = END, seed: int = 0) -> pd.DataFrame:
    """Labels with a known signal: penalties, the abnormal list and a missing annual report raise the odds."""
    rng = np.random.default_rng(seed)
    cols: dict[str, np.ndarray] = {}
    for ind in CATALOGUE:
        if ind.kind == "binary":
            cols[ind.name] = (rng.random(n) < 0.15).astype("float64")
        elif ind.kind == "categorical":
            cols[ind.name] = rng.integers(1, 6, n).astype("float64")
        else:
            cols[ind.name] = np.minimum(rng.gamma(1.0, 2.0, n), ind.max if ind.max is not None else np.inf)
    df = pd.DataFrame(cols)
    df["dishonest_listed_now"] = 0.0  # forced to D by an override: keep the fake signal in the score alone
    z = -2.2 + 0.5 * df.penalties_12m + 1.5 * df.abnormal_listed_now + 1.0 * df.annual_report_missing
    z = z - 0.08 * df.age_years
    df["label"] = (rng.random(n) < 1 / (1 + np.exp(-z))).astype("int64")
    df["weight"] = rng.choice([10.0, 25.0, 40.0], n)
    last = dt.date.fromisoformat(end + "-01")
    back = rng.integers(0, months, n)
    df["inspection_month"] = [
        dt.date(last.year - (last.month - 1 - b < 0) * (1 + (b - last.month) // 12), (last.month - 1 - b) % 12 + 1, 1)
        for b in back
    ]
    df["delivered_month"] = df["inspection_month"]  # results delivered in the month of the inspection
    df["uscc"] = [f"U{i:017d}" for i in range(n)]
    df["month"] = pd.to_datetime(df["inspection_month"]) - pd.DateOffset(months=1)
    return df.sort_values(["inspection_month", "uscc"]).reset_index(drop=True)


@pytest.fixture(scope="module")
def labels() -> pd.DataFrame:
    return fake_labels()


@pytest.fixture(scope="module")
def config() -> model_config.ModelConfig:
    # Retrain whenever a label arrived, so each test's challenger is trained; the trigger has its own test.
    return dataclasses.replace(model_config.load_config(), min_new_labels=1)


@pytest.fixture(scope="module")
def card() -> scorecard.Scorecard:
    return dataclasses.replace(scorecard.load_scorecard(), min_labels=1000)


@pytest.fixture(scope="module")
def trained(labels: pd.DataFrame, config: model_config.ModelConfig) -> tuple[training.RiskModel, dict]:
    return training.train(labels, END, config)


def test_windows_are_time_based(labels: pd.DataFrame, config: model_config.ModelConfig) -> None:
    w = model_labels.windows(labels, END, config)
    months = pd.to_datetime(labels["inspection_month"])
    assert (config.holdout_months, config.validation_months) == (6, 3)
    assert months[w["holdout"]].min() == pd.Timestamp("2024-07-01")
    assert months[w["validation"]].min() == pd.Timestamp("2024-04-01")
    assert months[w["validation"]].max() == pd.Timestamp("2024-06-01")
    assert months[w["train"]].max() == pd.Timestamp("2024-03-01")
    assert (w["train"].astype(int) + w["validation"] + w["holdout"] == 1).all()


def test_same_labels_same_model_and_scores(labels: pd.DataFrame, config: model_config.ModelConfig, trained) -> None:
    again, facts = training.train(labels.copy(), END, config)
    first = trained[0]
    assert first.booster.model_to_string() == again.booster.model_to_string()
    assert first.calibration == again.calibration
    assert facts["params"]["deterministic"] and facts["params"]["force_row_wise"]
    X = training.feature_matrix(labels, first.features)
    assert np.array_equal(first.raw(X), again.raw(X))


def test_reasons_add_up_to_the_score(labels: pd.DataFrame, trained, card: scorecard.Scorecard) -> None:
    m = trained[0]
    X = training.feature_matrix(labels, m.features)
    contrib = m.contributions(X)
    # contributions + base value = raw score, for every row
    np.testing.assert_allclose(contrib.sum(axis=1), m.raw(X), rtol=0, atol=1e-9)
    scaling = training.Scaling.of(card)
    scored = m.score(labels, scaling, BY_NAME)
    a, b = m.calibration
    feature_points = scaling.factor * a * contrib[:, :-1]
    base_points = scaling.points(a * contrib[:, -1] + b)
    np.testing.assert_allclose(feature_points.sum(axis=1) + base_points, scored.points, atol=1e-7)
    # the three reasons are the three largest contributions, largest first, with their values and names
    top = np.sort(feature_points, axis=1)[:, ::-1][:, :3]
    got = scored.reasons[["reason_1_points", "reason_2_points", "reason_3_points"]].to_numpy()
    np.testing.assert_allclose(got, top, atol=1e-9)
    row = scored.reasons.iloc[0]
    assert row["reason_1_zh"] == BY_NAME[row["reason_1"]].name_zh
    assert row["reason_1_value"] == labels.loc[0, row["reason_1"]]
    assert ((scored.probability > 0) & (scored.probability < 1)).all()


def test_monotone_constraints_hold(labels: pd.DataFrame, trained) -> None:
    m = trained[0]
    rows = labels.head(50)
    for name, direction in (("penalties_12m", 1), ("abnormal_listed_now", 1), ("age_years", -1)):
        assert BY_NAME[name].direction == direction
        scores = []
        for v in np.linspace(0, 20 if name != "abnormal_listed_now" else 1, 11):
            X = training.feature_matrix(rows.assign(**{name: v}), m.features)
            scores.append(m.raw(X))
        steps = np.diff(np.array(scores), axis=0) * direction
        assert (steps >= -1e-12).all(), name


def test_the_model_learns_the_signal(labels: pd.DataFrame, trained, card: scorecard.Scorecard) -> None:
    from zs_risk_pipeline.lib.model import metrics

    hold = labels[model_labels.windows(labels, END, model_config.load_config())["holdout"]]
    scored = trained[0].score(hold, training.Scaling.of(card), BY_NAME)
    assert metrics.weighted_auc(hold["label"], scored.points, hold["weight"]) > 0.7


def _challenge(labels, month, registry, card, config) -> dict:
    population = labels.drop(columns=["label", "weight", "inspection_month", "delivered_month"])
    policy, plans = tier_policy.load_policy(), plan_policy.load_plans()
    return promotion.challenge(labels, month, population, registry, card, policy, config, plans)


def test_a_worse_challenger_is_refused_and_the_champion_stays(
    tmp_path: Path, labels: pd.DataFrame, config: model_config.ModelConfig, card: scorecard.Scorecard
) -> None:
    registry = Registry(tmp_path / "models")
    first = _challenge(labels, END, registry, card, config)
    assert first["status"] == "promoted", first["reasons"]
    champion = first["champion_after"]
    assert registry.champion_as_of(END) == champion

    # The next month's challenger learns from shuffled outcomes: noise, worse on the same holdout.
    worse = fake_labels(seed=0, end="2025-01")
    worse["label"] = np.random.default_rng(1).permutation(worse["label"].to_numpy())
    second = _challenge(worse, "2025-01", registry, card, config)
    assert second["status"] == "kept_champion"
    assert second["champion_before"] == champion and second["champion_after"] == champion
    assert any("champion" in r or "scorecard" in r or "tier" in r for r in second["reasons"])
    assert registry.champion_as_of("2025-01") == champion
    assert registry.entry(second["trained"])["metrics"]["holdout"]["auc"] < 0.6  # registered, not serving
    # The record says which metric decided, at which budget, and the three scorers' values for it.
    recorded = registry.decision("2025-01")
    assert recorded["decided_on"] == "found_at_budget"
    assert recorded["budget"] == {"plans": ["MR-GENERAL"], "monthly_ratios": pytest.approx(RATIOS)}
    hit = {k: v["found_at_budget"]["hit_rate"] for k, v in recorded["holdout"].items()}
    shown = {k: "undefined" if v is None else f"{v:.4f}" for k, v in hit.items()}  # null in JSON: NaN
    assert recorded["verdict"].startswith(
        "decided on expected problems found at the plans' budget per inspection: "
        f"challenger {shown['challenger']}, champion {shown['champion']}, scorecard {shown['scorecard']}; "
        "reported: weighted AUC: challenger "
    )
    assert first["reasons"] == ["passed the promotion gate on the holdout (found_at_budget)"]
    # ... and so does the model asset's metadata, with a number to plot for each scorer the holdout could measure.
    md = model_assets.decision_metadata(second, tmp_path / "models")
    assert md["decided_on"] == "found_at_budget (expected problems found at the plans' budget)"
    assert md["verdict"] == recorded["verdict"] and md["budget"] == second["budget"]
    assert md["holdout_comparison"].value.startswith("| scorer | hit_rate_at_budget | found_at_budget | budget |")
    plotted = {k.removesuffix("_hit_rate_at_budget"): v.value for k, v in md.items() if k.endswith("_at_budget")}
    assert plotted == {k: v for k, v in hit.items() if v is not None} and plotted


@dg.asset(key=model_assets.RISK_MODEL, partitions_def=monthly)
def decided_model() -> None:
    """Stands in for the model step: the test records the registry's decisions itself."""


def test_the_promotion_gate_check_says_which_metric_promoted_the_serving_model(tmp_path: Path) -> None:
    registry = Registry(tmp_path / "models")
    first = registry.save("tree\n", {}, "2024-12")["model_id"]
    second = registry.save("another tree\n", {}, "2025-01")["model_id"]
    line = "decided on expected problems found at the plans' budget per inspection: challenger 0.2460, scorecard 0.2"
    passed = {"trained": first, "promoted": True, "champion_after": first, "reasons": ["passed the gate"]}
    registry.record_decision("2024-12", {**passed, "decided_on": "found_at_budget", "verdict": line})
    registry.record_decision("2025-01", {"trained": second, "promoted": False, "champion_after": first})

    def check(month: str) -> dg.AssetCheckEvaluation:
        result = dg.materialize(
            [decided_model, model_assets.serving_model_promotion_gate],
            partition_key=f"{month}-01",
            resources={"zs_home": ZsRiskHome(home=str(tmp_path))},
        )
        return result.get_asset_check_evaluations()[0]

    evaluation = check("2025-01")  # the champion promoted in December still serves
    assert evaluation.passed
    md = {k: v.value for k, v in evaluation.metadata.items()}
    assert (md["serving"], md["promoted_in"], md["decided_on"], md["verdict"]) == (
        first,
        "2024-12",
        "found_at_budget",
        line,
    )
    # A promotion recorded before the gate named its metric was decided on AUC, and its reasons say how.
    registry.record_decision("2024-12", passed)
    md = {k: v.value for k, v in check("2025-01").metadata.items()}
    assert (md["decided_on"], md["verdict"]) == ("auc", "passed the gate")


def test_retraining_waits_for_enough_new_labels(
    tmp_path: Path, labels: pd.DataFrame, config: model_config.ModelConfig, card: scorecard.Scorecard
) -> None:
    registry = Registry(tmp_path / "models")
    first = _challenge(labels, END, registry, card, config)
    champion = first["champion_after"]
    # A month later: the labels of 2024-12 plus those of January (about 1 in 12 of a 4,000-label history).
    later = fake_labels(seed=0, end="2025-01")
    arrived = int((pd.to_datetime(later["delivered_month"]) > pd.Timestamp("2024-12-01")).sum())
    assert 200 < arrived < 500

    waiting = _challenge(later, "2025-01", registry, card, dataclasses.replace(config, min_new_labels=arrived + 1))
    assert (waiting["status"], waiting["trained"], waiting["champion_after"]) == ("not_retrained", None, champion)
    assert waiting["new_labels_since_last_training"] == arrived
    assert f"{arrived} labels delivered since {first['trained']} was trained (2024-12)" in waiting["reasons"][0]
    assert registry.champion_as_of("2025-01") == champion

    # Enough labels counted from the last trained challenger (not from the refused month): retrained.
    enough = _challenge(later, "2025-02", registry, card, dataclasses.replace(config, min_new_labels=arrived))
    assert enough["trained"] is not None and enough["new_labels_since_last_training"] == arrived


def measured(auc: float, hit_rate: float = 0.3, increasing: bool = True) -> dict:
    """What `evaluate` says of a scorer, as far as the gate reads it."""
    at_budget = {"found": 10.0 * hit_rate, "budget": 10.0, "hit_rate": hit_rate}
    return {"auc": auc, "tiers_increasing": increasing, "problem_rate_by_tier": {}, "found_at_budget": at_budget}


def test_decide_gate_on_auc() -> None:
    cfg = dataclasses.replace(model_config.load_config(), decide_on="auc")
    good = measured(0.80)
    assert promotion.decide(good, None, measured(0.70), cfg) == (True, [])
    ok, why = promotion.decide(measured(0.79), measured(0.80), measured(0.70), cfg)
    assert not ok and "champion" in why[0]
    assert promotion.decide(measured(0.797), measured(0.80), measured(0.70), cfg)[0]  # within the tolerance
    ok, why = promotion.decide(measured(0.80, increasing=False), None, measured(0.70), cfg)
    assert not ok and "tier" in why[0]
    ok, why = promotion.decide(measured(0.65), None, measured(0.70), cfg)
    assert not ok and "scorecard" in why[0]
    # The hit rate at budget is reported, not decisive: far below the champion's, still promoted.
    assert promotion.decide(measured(0.80, 0.1), measured(0.80, 0.5), measured(0.70, 0.5), cfg)[0]


def test_decide_gate_on_found_at_budget() -> None:
    cfg = model_config.load_config()
    assert (cfg.decide_on, cfg.hit_rate_tolerance) == ("found_at_budget", 0.02)
    # The AUC is reported, not decisive: far below the champion's and the scorecard's, still promoted.
    assert promotion.decide(measured(0.60, 0.30), measured(0.80, 0.30), measured(0.75, 0.20), cfg) == (True, [])
    # The tolerance is a share of the champion's hit rate: 0.30 × 0.98 = 0.294 is enough, 0.2939 is not.
    assert promotion.decide(measured(0.8, 0.294), measured(0.8, 0.30), measured(0.7, 0.2), cfg)[0]
    ok, why = promotion.decide(measured(0.8, 0.2939), measured(0.8, 0.30), measured(0.7, 0.2), cfg)
    assert not ok and "champion's 0.3000" in why[0] and "0.2939 per inspection" in why[0]
    ok, why = promotion.decide(measured(0.8, 0.19), None, measured(0.7, 0.20), cfg)
    assert not ok and why == [
        "expected problems found at the plans' budget 0.1900 per inspection is below the scorecard baseline 0.2000"
    ]
    ok, why = promotion.decide(measured(0.8, increasing=False), None, measured(0.7, 0.2), cfg)
    assert not ok and "tier" in why[0]
    ok, why = promotion.decide(measured(float("nan")), None, measured(0.7, 0.2), cfg)
    assert not ok and why == ["the holdout has no problem found or no clean inspection: AUC undefined"]
    # A champion the holdout cannot measure cannot defend its place; a challenger it cannot measure cannot take it.
    assert promotion.decide(measured(0.8, 0.3), measured(0.9, float("nan")), measured(0.7, 0.2), cfg)[0]
    ok, why = promotion.decide(measured(0.8, float("nan")), None, measured(0.7, 0.2), cfg)
    assert not ok and why == [
        "expected problems found at the plans' budget undefined: a tier the ratios inspect has no inspection on the "
        "holdout"
    ]


def test_cold_start_below_the_label_threshold(
    tmp_path: Path, labels: pd.DataFrame, config: model_config.ModelConfig
) -> None:
    registry = Registry(tmp_path / "models")
    strict = dataclasses.replace(scorecard.load_scorecard(), min_labels=len(labels) + 1)
    decision = _challenge(labels, END, registry, strict, config)
    assert decision["status"] == "cold_start" and decision["trained"] is None
    assert registry.champion_as_of(END) is None
    assert not list((tmp_path / "models").glob("lgbm-*"))
    served = classify.serving(registry, END, strict)
    assert served.kind == "scorecard" and served.version.startswith("scorecard-v1-")


def test_tampered_model_is_refused(
    tmp_path: Path, labels: pd.DataFrame, config: model_config.ModelConfig, card: scorecard.Scorecard
) -> None:
    registry = Registry(tmp_path / "models")
    model_id = _challenge(labels, END, registry, card, config)["champion_after"]
    assert registry.verify(model_id) == []
    path = registry.model_dir(model_id) / "model.txt"
    path.write_text(path.read_text(encoding="utf-8").replace("leaf_value=", "leaf_value=0", 1), encoding="utf-8")
    assert "SHA-256" in registry.verify(model_id)[0]
    with pytest.raises(RegistryError, match="SHA-256"):
        classify.serving(registry, END, card)


def test_champion_is_point_in_time(tmp_path: Path) -> None:
    registry = Registry(tmp_path / "models")
    registry.record_decision("2024-03", {"champion_after": "m1"})
    registry.record_decision("2024-06", {"champion_after": "m2"})
    assert registry.champion_as_of("2024-02") is None
    assert registry.champion_as_of("2024-05") == "m1"
    assert registry.champion_as_of("2024-09") == "m2"
    registry.record_decision("2024-06", {"champion_after": "m3"})  # a rerun replaces the month's decision
    assert registry.champion_as_of("2024-06") == "m3"


def test_tiers_from_the_model_are_deterministic(
    tmp_path: Path, labels: pd.DataFrame, config: model_config.ModelConfig, card: scorecard.Scorecard
) -> None:
    frames, ids = [], []
    for run in ("a", "b"):
        registry = Registry(tmp_path / run)
        decision = _challenge(labels, END, registry, card, config)
        population = labels.drop(columns=["label", "weight", "inspection_month", "delivered_month"])
        served = classify.serving(registry, END, card)
        assert served.version == decision["champion_after"]
        ids.append((served.version, registry.entry(served.version)["sha256"]))
        frames.append(classify.tier_frame(END, population, served, card, tier_policy.load_policy()))
    assert ids[0] == ids[1]  # same labels, same model file hash, same registry id
    pd.testing.assert_frame_equal(frames[0], frames[1])
    assert frames[0]["model_kind"].eq("lightgbm").all()
    assert frames[0]["reason_1"].notna().all()


# --- labels of a synthetic city -----------------------------------------------------------------------------

CITY_MONTHS = [f"2023-{m:02d}" for m in range(1, 9)]


@pytest.fixture(scope="module")
def city_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("model_city")


@pytest.fixture(scope="module")
def city(city_root: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    root = city_root
    synth.generate(root / "landing", root / "truth", enterprises=8000, months=len(CITY_MONTHS), start="2023-01", seed=3)
    conn = duckdb.connect(str(root / "warehouse.duckdb"))
    staging.prepare(conn, TEST_KEY.encode())
    for month in CITY_MONTHS:
        for name in (*enterprise_monthly.SOURCES, "plans"):
            staging.land(conn, name, month, root / "landing")
            staging.stage(conn, name, month)
        enterprise_monthly.build_enterprise_monthly(conn, month)
    yield conn
    conn.close()


def test_labels_are_random_inspections_weighted_by_their_plan(city: duckdb.DuckDBPyConnection) -> None:
    cfg = model_config.load_config()
    got = model_labels.load_labels(city, CITY_MONTHS[-1], cfg)
    assert len(got) > 50
    truth = city.execute(
        """SELECT i.task_id, i.problem_found::INT AS label, p.sample_size / p.frame_size AS pi
           FROM staging.inspections i JOIN staging.plans p USING (plan_id) WHERE i.trigger = 'random'"""
    ).df()
    merged = got.merge(truth, on="task_id", suffixes=("", "_expected"))
    assert len(merged) == len(got)  # every label is a random inspection of a known plan
    np.testing.assert_allclose(merged["weight"], 1 / merged["pi_expected"], rtol=1e-9)
    assert (merged["label"] == merged["label_expected"]).all()
    # features of the month before the inspection
    gap = pd.to_datetime(got["inspection_month"]).dt.to_period("M") - pd.to_datetime(got["month"]).dt.to_period("M")
    assert (gap.map(lambda p: p.n) == 1).all()
    funnel = model_labels.label_funnel(city, CITY_MONTHS[-1], cfg)
    assert funnel["labels"] == len(got)
    assert funnel["random_inspections"] == (
        funnel["labels"] + funnel["without_plan_pi"] + funnel["without_prior_features"]
    )
    assert funnel["without_prior_features"] > 0  # January has no December features


def test_the_oracle_scores_the_hidden_truth_on_the_model_steps_holdout(
    city: duckdb.DuckDBPyConnection, city_root: Path
) -> None:
    """The demo's oracle comparison: the same holdout the model step uses, ranked by the city's hidden truth."""
    cfg = model_config.load_config()
    month = CITY_MONTHS[-1]
    truth = oracle.load_truth(city_root / "truth")
    labels = model_labels.load_labels(city, month, cfg)
    hold = labels[model_labels.windows(labels, month, cfg)["holdout"]].merge(truth, on="task_id", how="left")
    assert len(hold) > 20 and hold["p_problem"].notna().all()
    expected = metrics.weighted_auc(hold["label"].to_numpy(float), hold["p_problem"].to_numpy(), hold["weight"])
    got = oracle.holdout_auc(city, month, truth, cfg)
    assert got == pytest.approx(expected) and got > 0.6  # the truth ranks problems well above chance
    assert oracle.holdout_auc(city, month, truth[truth["task_id"] != hold["task_id"].iloc[0]], cfg) is None
    assert oracle.load_truth(city_root / "no-such-folder") is None


def test_labels_never_see_later_deliveries(city: duckdb.DuckDBPyConnection) -> None:
    cfg = model_config.load_config()
    early = model_labels.load_labels(city, CITY_MONTHS[4], cfg)
    late = model_labels.load_labels(city, CITY_MONTHS[-1], cfg)
    assert pd.to_datetime(early["inspection_month"]).max() <= pd.Timestamp(CITY_MONTHS[4] + "-01")
    assert set(early["task_id"]) < set(late["task_id"])
    kept = late[late["task_id"].isin(early["task_id"])].reset_index(drop=True)
    pd.testing.assert_frame_equal(early.reset_index(drop=True), kept)


def test_serving_check_catches_a_replaced_or_altered_model(
    tmp_path: Path, labels: pd.DataFrame, config: model_config.ModelConfig, card: scorecard.Scorecard
) -> None:
    registry = Registry(tmp_path / "models")
    model_id = _challenge(labels, END, registry, card, config)["champion_after"]
    population = labels.drop(columns=["label", "weight", "inspection_month", "delivered_month"])
    conn = duckdb.connect()
    frame = classify.tier_frame(END, population, classify.serving(registry, END, card), card, tier_policy.load_policy())
    assert classify.write_month(conn, END, frame) == len(population)
    assert classify.serving_problems(conn, END, registry, card)[0] == []
    # tiers written by another scorer than the registry's champion
    registry.record_decision(END, {"champion_after": None})
    problems = classify.serving_problems(conn, END, registry, card)[0]
    assert "the registry says scorecard-v1-" in problems[0]
    registry.record_decision(END, {"champion_after": model_id})
    path = registry.model_dir(model_id) / "model.txt"
    path.write_text(path.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert any("SHA-256" in p for p in classify.serving_problems(conn, END, registry, card)[0])


def test_holdout_ordering_of_the_serving_model(
    tmp_path: Path, labels: pd.DataFrame, config: model_config.ModelConfig, card: scorecard.Scorecard
) -> None:
    registry = Registry(tmp_path / "models")
    assert classify.holdout_ordering(registry, END)[0]  # cold start: the scorecard is a fixed rule set
    decision = _challenge(labels, END, registry, card, config)
    ok, detail = classify.holdout_ordering(registry, END)
    rates = detail["holdout_problem_rate_by_tier"]
    assert ok and rates["A"] < rates["B"] < rates["C"] < rates["D"]
    entry_path = registry.model_dir(decision["champion_after"]) / "entry.json"
    doc = entry_path.read_text(encoding="utf-8")
    entry_path.write_text(doc.replace('"tiers_increasing": true', '"tiers_increasing": false'), encoding="utf-8")
    assert not classify.holdout_ordering(registry, END)[0]


def test_probabilities_are_calibrated_on_the_validation_window(
    labels: pd.DataFrame, config: model_config.ModelConfig, trained, card: scorecard.Scorecard
) -> None:
    # Weighted Platt scaling with an intercept: on its own window the weighted mean probability equals the
    # weighted problem-found rate (its first-order condition), whatever the raw scores' scale.
    valid = labels[model_labels.windows(labels, END, config)["validation"]]
    p = trained[0].score(valid, training.Scaling.of(card), BY_NAME).probability
    w, y = valid["weight"].to_numpy(), valid["label"].to_numpy()
    assert np.average(p, weights=w) == pytest.approx(np.average(y, weights=w), abs=1e-3)
