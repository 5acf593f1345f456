"""Model monitoring (模型监测): PSI severity and small-stratum thresholds, tier-mix shift, the 1/π-weighted
problem-found rate by tier, the tier-ordering verdict and the publish it gates, the reference month, config."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import replace
from pathlib import Path

import dagster as dg
import duckdb
import numpy as np
import pandas as pd
import pytest
from dagster_duckdb import DuckDBResource

from zs_risk_pipeline.defs.monitoring.model_monitoring import latest_results_keep_tier_order
from zs_risk_pipeline.defs.partitions import monthly
from zs_risk_pipeline.defs.resources import ZsRiskPolicy
from zs_risk_pipeline.defs.tiers.assets import TIERS
from zs_risk_pipeline.lib.model.registry import Registry
from zs_risk_pipeline.lib.monitoring import drift, drift_checks, model_monitoring, monitoring_policy, ordering, report
from zs_risk_pipeline.lib.policy import folder, versions
from zs_risk_pipeline.lib.publish import tables, wap
from zs_risk_pipeline_tests.conftest import policy_file, yaml_variant

POLICY = replace(monitoring_policy.load_policy(), strata=())
D = dt.date


def scores(reference: np.ndarray, current: np.ndarray, towns: tuple[np.ndarray, np.ndarray] | None = None):
    """A frame as sql/intermediate/monitoring.model_monitoring.sql#scores returns it."""
    ref_town, cur_town = towns if towns else (np.zeros(len(reference), int), np.zeros(len(current), int))
    return pd.DataFrame(
        {
            "is_current": np.r_[np.zeros(len(reference), bool), np.ones(len(current), bool)],
            "value": np.concatenate([reference, current]),
            "town_no": np.concatenate([ref_town, cur_town]),
            "reference_tier": "A",
        }
    )


# --- PSI -----------------------------------------------------------------------------------------------------


def test_psi_severity_on_a_shifted_and_an_unshifted_population() -> None:
    rng = np.random.default_rng(1)
    reference = rng.normal(0, 1, 20_000)
    same = drift_checks.score_drift(scores(reference, rng.normal(0, 1, 20_000)), POLICY)[0]
    shifted = drift_checks.score_drift(scores(reference, rng.normal(1, 1, 20_000)), POLICY)[0]
    moderate = drift_checks.score_drift(scores(reference, rng.normal(0.45, 1, 20_000)), POLICY)[0]
    assert (same["metric"], same["status"]) == ("score_psi", "stable") and same["value"] < 0.01
    assert moderate["status"] == "moderate" and 0.10 <= moderate["value"] < 0.25
    assert shifted["status"] == "significant" and shifted["value"] >= 0.25
    # at 20,000 firms the χ² critical value is far below the rule of thumb, which therefore decides
    assert shifted["threshold"] == 0.25 and shifted["detail"]["critical_value"] < 0.01


def test_without_ties_the_psi_is_drift_psi_and_a_mass_point_gets_its_own_bin() -> None:
    rng = np.random.default_rng(4)
    a, b = pd.Series(rng.normal(size=1001)), pd.Series(rng.normal(0.3, 1, size=800))
    b[::40] = np.nan
    row = drift_checks.score_drift(scores(a.to_numpy(), b.to_numpy()), POLICY)[0]
    assert row["value"] == pytest.approx(drift.psi(a, b, kind="numeric", bins=10), abs=1e-12)
    assert row["detail"]["bins"] == 11  # ten deciles and the NULL bin
    # a count most firms never have: its non-zero share doubles, which deciles that are all 0 cannot see unless
    # the 0 is a bin of its own (it was merged with the 1s in drift.psi before the two shared one binning)
    before = pd.Series(np.r_[np.zeros(9_500), np.ones(500)])
    after = pd.Series(np.r_[np.zeros(9_000), np.ones(1_000)])
    value = drift.psi_from_counts(*drift.bin_counts(before, after, kind="numeric", bins=10))
    assert value == pytest.approx(0.05 * math.log(2) + 0.05 * math.log(0.95 / 0.90), rel=1e-3)
    assert drift.psi(before, after, kind="numeric") == value
    assert drift_checks.score_drift(scores(before.to_numpy(), after.to_numpy()), POLICY)[0]["value"] == value


def test_small_stratum_threshold_grows_as_the_stratum_shrinks_and_sampling_noise_does_not_alarm() -> None:
    crit = [drift_checks.critical_psi(n, n, 9, 0.99) for n in (100, 300, 2_000, 500_000)]
    assert crit == sorted(crit, reverse=True)
    assert crit[0] > 0.4 and 0.13 < crit[1] < 0.15 and crit[3] < 1e-4  # methods.md §2.2 table, 99 %
    rng = np.random.default_rng(2)
    small_ref, small_cur = rng.normal(size=300), rng.normal(size=300)  # same distribution, 300 firms a side
    big_ref, big_cur = rng.normal(size=5_000), rng.normal(size=5_000)
    frame = scores(
        np.r_[big_ref, small_ref],
        np.r_[big_cur, small_cur],
        (np.r_[np.ones(5_000, int), np.full(300, 2)], np.r_[np.ones(5_000, int), np.full(300, 2)]),
    )
    rows = {r["subject"]: r for r in drift_checks.score_drift(frame, replace(POLICY, strata=("town_no",)))}
    small = rows["town_no=2"]
    assert drift.severity(small["value"]) == "moderate"  # the 0.10 rule would raise a false alarm here
    assert small["status"] == "stable" and small["threshold"] > small["detail"]["moderate_at"] > small["value"]
    assert rows["town_no=1"]["detail"]["moderate_at"] == 0.10  # a large stratum keeps the rule of thumb
    assert rows["town_no=1"]["status"] == "stable"


def test_tier_mix_shift_against_the_reference_and_the_previous_month() -> None:
    ref, prev, m = D(2024, 1, 1), D(2024, 3, 1), D(2024, 4, 1)
    counts = {
        ref: {"A": 4000, "B": 4500, "C": 1000, "D": 500},
        prev: {"A": 4000, "B": 4500, "C": 1000, "D": 500},
        m: {"A": 2000, "B": 4500, "C": 2500, "D": 1000},
    }
    rows = drift_checks.tier_mix(counts, m, ref, prev, POLICY)
    psi = {r["subject"]: r for r in rows if r["metric"] == "tier_mix_psi"}
    p, q = np.array([0.40, 0.45, 0.10, 0.05]), np.array([0.20, 0.45, 0.25, 0.10])
    assert psi["vs_reference"]["value"] == pytest.approx(float(np.sum((q - p) * np.log(q / p))))
    assert psi["vs_reference"]["status"] == "significant" and psi["vs_previous"]["status"] == "significant"
    shares = {r["subject"]: r for r in rows if r["metric"] == "tier_share"}
    assert shares["A"]["value"] == pytest.approx(0.20)
    assert shares["A"]["detail"]["change_vs_reference_pp"] == pytest.approx(-20.0)
    assert shares["C"]["detail"]["change_vs_previous_pp"] == pytest.approx(15.0)
    counts[m] = {"A": 3990, "B": 4510, "C": 1000, "D": 500}  # a few firms moved: no alarm
    calm = {
        r["subject"]: r for r in drift_checks.tier_mix(counts, m, ref, prev, POLICY) if r["metric"] == "tier_mix_psi"
    }
    assert calm["vs_reference"]["status"] == "stable" and calm["vs_reference"]["value"] < 1e-4
    # the categorical PSI of shares is drift.psi's over the enterprises
    expanded = pd.Series(np.repeat(list("ABCD"), [4000, 4500, 1000, 500]))
    moved = pd.Series(np.repeat(list("ABCD"), [2000, 4500, 2500, 1000]))
    assert psi["vs_reference"]["value"] == pytest.approx(drift.psi(expanded, moved, kind="categorical"))


# --- a small warehouse: tiers, features, inspections, plans -------------------------------------------------


def make_warehouse(path: Path) -> duckdb.DuckDBPyConnection:
    conn = duckdb.connect(str(path))
    for schema in ("tiers", "features", "staging"):
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    conn.execute(
        "CREATE TABLE tiers.enterprise_monthly (month DATE, uscc VARCHAR, model_version VARCHAR, score DOUBLE, "
        "probability DOUBLE, points DOUBLE, tier VARCHAR, policy_version VARCHAR)"
    )
    cols = ", ".join(f"{c} DOUBLE" for c in POLICY.key_indicators)
    conn.execute(f"CREATE TABLE features.enterprise_monthly (month DATE, uscc VARCHAR, town_no INTEGER, {cols})")
    conn.execute(
        "CREATE TABLE staging.inspections (task_id VARCHAR, plan_id VARCHAR, uscc VARCHAR, inspected_on DATE, "
        "trigger VARCHAR, problem_found BOOLEAN, _delivery_month DATE)"
    )
    conn.execute(
        "CREATE TABLE staging.plans (plan_id VARCHAR, kind VARCHAR, inclusion_probability DOUBLE, _delivery_month DATE)"
    )
    return conn


def insert(conn: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> None:
    conn.register("_rows", frame)
    conn.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _rows")
    conn.unregister("_rows")


def add_tiers(conn: duckdb.DuckDBPyConnection, month: dt.date, tiers: list[str], version: str = "m1") -> None:
    rng = np.random.default_rng(month.toordinal())
    frame = pd.DataFrame(
        {
            "month": month,
            "uscc": [f"U{i:05d}" for i in range(len(tiers))],
            "model_version": version,
            "points": rng.normal(size=len(tiers)),
            "tier": tiers,
        }
    ).assign(score=lambda f: f["points"], probability=0.1, policy_version=versions.current("tiers").version)
    insert(conn, "tiers.enterprise_monthly", frame)
    feats = frame[["month", "uscc"]].assign(town_no=np.arange(len(tiers)) % 3)
    for c in POLICY.key_indicators:
        feats[c] = rng.poisson(1.0, len(tiers)).astype(float)
    insert(conn, "features.enterprise_monthly", feats)


def add_inspections(conn: duckdb.DuckDBPyConnection, rows: list[tuple]) -> None:
    """rows: (task_id, plan_id, uscc, inspected_on, trigger, problem_found, delivery month)."""
    columns = ["task_id", "plan_id", "uscc", "inspected_on", "trigger", "problem_found", "_delivery_month"]
    insert(conn, "staging.inspections", pd.DataFrame(rows, columns=columns))


def add_plans(conn: duckdb.DuckDBPyConnection, rows: list[tuple]) -> None:
    columns = ["plan_id", "kind", "inclusion_probability", "_delivery_month"]
    insert(conn, "staging.plans", pd.DataFrame(rows, columns=columns))


MAR, APR = D(2024, 3, 1), D(2024, 4, 1)


def test_ipw_rate_by_tier_equals_the_hand_computed_weighted_rate(tmp_path: Path) -> None:
    conn = make_warehouse(tmp_path / "w.duckdb")
    add_tiers(conn, MAR, ["A", "A", "A", "B", "B", "C"])  # U00000..U00005 in March
    add_tiers(conn, D(2024, 2, 1), ["B", "B", "B", "B", "B", "B"])  # February: everyone B
    add_plans(conn, [("P1", "random", 0.5, MAR), ("P2", "random", 0.1, MAR), ("LATE", "random", 0.2, D(2024, 5, 1))])
    ok = [
        ("t1", "P1", "U00000", D(2024, 4, 3), "random", True, APR),  # A, w 2, problem
        ("t2", "P2", "U00001", D(2024, 4, 5), "random", False, APR),  # A, w 10
        ("t3", "P2", "U00002", D(2024, 4, 9), "random", True, APR),  # A, w 10, problem
        ("t4", "P1", "U00003", D(2024, 4, 9), "random", False, APR),  # B, w 2
        ("t5", "P1", "U00000", D(2024, 3, 20), "random", True, MAR),  # tier of February: B, w 2, problem
    ]
    ignored = [
        ("x1", "P1", "U00001", D(2024, 4, 9), "triggered", True, APR),  # chosen for risk, never a label
        ("x2", "P1", "U00001", D(2024, 4, 30), "random", True, D(2024, 5, 1)),  # delivered after M
        ("x3", "P1", "U00001", D(2023, 12, 4), "random", True, D(2024, 1, 1)),  # delivered before the window
        ("x4", "LATE", "U00002", D(2024, 4, 9), "random", True, APR),  # its plan arrives after M: no π
        ("x5", "P1", "U09999", D(2024, 4, 9), "random", True, APR),  # never tiered
    ]
    add_inspections(conn, ok + ignored)
    policy = replace(POLICY, window_months=3, min_inspections=2)
    rates, verdict, funnel = ordering.ordering(conn, "2024-04", policy)
    by = {r.tier: r for r in rates}
    assert by["A"].rate == pytest.approx((2 * 1 + 10 * 0 + 10 * 1) / (2 + 10 + 10))
    assert (by["A"].inspections, by["A"].problems) == (3, 2)
    assert by["B"].rate == pytest.approx((2 * 0 + 2 * 1) / (2 + 2)) and by["B"].inspections == 2
    assert by["C"].inspections == 0 and not by["C"].enough and by["D"].rate is None
    # linearised SE of the Hájek ratio: sqrt(n/(n-1) Σ w²(y - r)²) / Σw
    r = 12 / 22
    se = math.sqrt(3 / 2 * (4 * (1 - r) ** 2 + 100 * r**2 + 100 * (1 - r) ** 2)) / 22
    assert by["A"].se == pytest.approx(se)
    assert funnel["random_inspections"] == 7 and funnel["without_plan_pi"] == 1
    assert funnel["without_tier_month_before"] == 1
    assert funnel["window"] == "delivered 2024-02..2024-04"
    assert verdict.status == "pass" and [p.status for p in verdict.pairs] == ["not_significant"]


def _results(tier_counts: dict[str, tuple[int, int]], pi: float = 0.05) -> pd.DataFrame:
    """Rows (tier, pi, problem_found): per tier (inspections, problems)."""
    rows = []
    for tier, (n, found) in tier_counts.items():
        rows += [(tier, pi, int(i < found)) for i in range(n)]
    return pd.DataFrame(rows, columns=["tier", "pi", "problem_found"])


def test_a_significant_inversion_fails_and_a_small_noisy_one_does_not() -> None:
    # 400 A-firms with 30 % problems against 400 B-firms with 10 %: clearly inverted
    bad = ordering.tier_order(
        ordering.problem_rates(_results({"A": (400, 120), "B": (400, 40), "C": (100, 40)}), 30), z=2.33
    )
    assert not bad.passed and bad.status == "fail"
    assert [(p.lower, p.higher) for p in bad.inversions] == [("A", "B")]
    assert bad.skipped == ("D",) and "A 20.0 pp above B" in bad.note
    # 35 A-firms with 5 problems against 35 B-firms with 3: an inversion within the noise
    noisy = ordering.tier_order(ordering.problem_rates(_results({"A": (35, 5), "B": (35, 3)}), 30), z=2.33)
    pair = noisy.pairs[0]
    assert pair.difference > 0 and pair.status == "not_significant" and 0 < pair.z < 2.33
    assert noisy.passed and noisy.status == "pass"
    # a tier below the minimum is reported and skipped, not failed, however inverted it looks
    few = ordering.tier_order(
        ordering.problem_rates(_results({"A": (100, 10), "B": (100, 20), "C": (5, 0)}), 30), z=2.33
    )
    assert few.passed and few.skipped == ("C", "D") and [p.status for p in few.pairs] == ["rises"]
    # months without enough results pass with a note
    early = ordering.tier_order(ordering.problem_rates(_results({"A": (20, 10), "B": (3, 0)}), 30), z=2.33)
    assert early.passed and early.status == "insufficient_results" and "not enough results" in early.note


# --- the blocking check and the publish --------------------------------------------------------------------


@dg.asset(key=TIERS, partitions_def=monthly)
def written_tiers() -> None:
    """Stands in for the tiers asset: the test writes the month's tiers itself."""


def _run_check(path: Path, month: str) -> dg.AssetCheckEvaluation:
    result = dg.materialize(
        [written_tiers, latest_results_keep_tier_order],
        partition_key=f"{month}-01",
        resources={"warehouse": DuckDBResource(database=str(path)), "policy": ZsRiskPolicy()},
        raise_on_error=False,
    )
    return result.get_asset_check_evaluations()[0]


def test_a_failing_ordering_verdict_refuses_to_publish_the_tiers(tmp_path: Path) -> None:
    path, mart = tmp_path / "w.duckdb", tmp_path / "mart"
    spec = tables.MART_TABLES["enterprise_tiers"]
    assert "latest_results_keep_tier_order" in spec.required_checks
    conn = make_warehouse(path)
    add_tiers(conn, MAR, ["A"] * 60 + ["B"] * 60)
    add_tiers(conn, APR, ["A"] * 60 + ["B"] * 60)
    add_plans(conn, [("P1", "random", 0.05, MAR)])
    # A-firms inspected in April found at fault 40 of 60 times, B-firms 5 of 60: the tiers are upside down
    add_inspections(
        conn,
        [(f"t{i}", "P1", f"U{i:05d}", D(2024, 4, 10), "random", i < 40 if i < 60 else i < 65, APR) for i in range(120)],
    )
    tables.prepare(conn)
    fp = tables.fingerprint(conn, spec, "2024-04")
    for name in spec.required_checks[:-1]:
        wap.record_audit(conn, spec, "2024-04", name, fp, True, {"test": True})
    conn.close()

    evaluation = _run_check(path, "2024-04")
    assert not evaluation.passed and evaluation.metadata["verdict"].value == "fail"
    assert evaluation.metadata["inversions"].value == ["A>B"]
    with duckdb.connect(str(path)) as conn:
        with pytest.raises(tables.PublishRefused, match="latest_results_keep_tier_order: failed"):
            wap.publish_month(conn, spec, "2024-04", mart)
        assert not (mart / tables.MART_FILE).exists()
        # the B-firms' results were mixed up: corrected, the order holds and the month publishes
        conn.execute("UPDATE staging.inspections SET problem_found = NOT problem_found")
    evaluation = _run_check(path, "2024-04")
    assert evaluation.passed and evaluation.metadata["verdict"].value == "pass"
    with duckdb.connect(str(path)) as conn:
        assert wap.publish_month(conn, spec, "2024-04", mart).rows == 120


# --- the month's table, reference month, config -------------------------------------------------------------


def test_build_model_monitoring_replaces_the_month_deterministically(tmp_path: Path) -> None:
    conn = make_warehouse(tmp_path / "w.duckdb")
    add_tiers(conn, MAR, ["A"] * 400 + ["B"] * 450 + ["C"] * 100 + ["D"] * 50)
    add_tiers(conn, APR, ["A"] * 200 + ["B"] * 450 + ["C"] * 200 + ["D"] * 150)
    policy = monitoring_policy.load_policy()
    first = model_monitoring.build_model_monitoring(conn, "2024-04", policy)
    rows = conn.execute("SELECT * FROM monitoring.model_monitoring ORDER BY month, seq").fetchall()
    again = model_monitoring.build_model_monitoring(conn, "2024-04", policy)
    assert conn.execute("SELECT * FROM monitoring.model_monitoring ORDER BY month, seq").fetchall() == rows
    assert first == again and first["reference_month"] == "2024-03" and first["rows"] == len(rows)
    frame = model_monitoring.month_rows(conn, "2024-04")
    assert list(frame["metric"].drop_duplicates()) == [
        "score_psi",
        "score_psi_stratum",
        "indicator_psi",
        "tier_mix_psi",
        "tier_share",
        "problem_rate",
        "tier_order_verdict",
    ]
    assert set(frame.loc[frame["metric"] == "indicator_psi", "subject"]) == set(policy.key_indicators)
    comment = conn.execute(
        "SELECT comment FROM duckdb_tables() WHERE schema_name = 'monitoring' AND table_name = 'model_monitoring'"
    ).fetchall()[0][0]
    assert "PSI" in comment and "模型监测" in comment
    lines = report.summary_lines(conn, "2024-04")
    assert lines[0].startswith("model monitoring (模型监测) 2024-04, reference month 2024-03")
    assert any("tier mix PSI" in ln and "significant" in ln for ln in lines)  # A 40 % → 20 %, D 5 % → 15 %
    assert lines[-1].startswith("  tier ordering A < B < C < D: insufficient_results")
    assert report.summary_lines(conn, "2024-01") == ["model monitoring (模型监测) 2024-01: not computed"]


def test_reference_month_is_the_promotion_month_of_the_serving_model_or_the_pinned_month(tmp_path: Path) -> None:
    conn = make_warehouse(tmp_path / "w.duckdb")
    serving = {"2023-11": "scorecard-v1", "2023-12": "scorecard-v1", "2024-01": "scorecard-v1"}
    serving |= {"2024-02": "lgbm-X", "2024-03": "lgbm-X", "2024-04": "lgbm-Y"}
    for month, version in serving.items():
        add_tiers(conn, D(int(month[:4]), int(month[5:]), 1), ["A", "B"], version)
    registry = Registry(tmp_path / "models")
    for month in ("2023-11", "2023-12", "2024-01"):
        registry.record_decision(month, {"status": "cold_start", "champion_after": None})
    registry.record_decision("2024-02", {"status": "promoted", "champion_after": "lgbm-X"})
    registry.record_decision("2024-03", {"status": "kept_champion", "champion_after": "lgbm-X"})
    registry.record_decision("2024-04", {"status": "promoted", "champion_after": "lgbm-Y"})

    def ref(
        month: str, policy: monitoring_policy.MonitoringPolicy = POLICY, reg: Registry | None = registry
    ) -> dt.date:
        return monitoring_policy.reference_month(conn, month, policy, reg)[0]

    assert ref("2024-03") == D(2024, 2, 1)  # lgbm-X was promoted in February
    assert monitoring_policy.reference_month(conn, "2024-03", POLICY, registry)[1] == "lgbm-X promoted in 2024-02"
    assert ref("2024-04") == D(2024, 4, 1)  # promoted this month: compared with itself
    assert ref("2024-01") == D(2023, 11, 1)  # cold start: the first tiered month
    assert ref("2024-03", reg=None) == D(2024, 2, 1)  # without the registry: first month of that model version
    pinned = replace(POLICY, reference="pinned", pinned_month=D(2024, 2, 1))
    assert ref("2024-04", pinned) == D(2024, 2, 1)
    assert ref("2024-01", pinned) == D(2023, 11, 1)  # a month before the pin never looks ahead to it
    assert monitoring_policy.reference_month(conn, "2024-06", POLICY, registry) == (None, "2024-06 has no tiers")


def test_closing_lines_compare_a_promotion_month_with_the_previous_scorers_reference(tmp_path: Path) -> None:
    conn = make_warehouse(tmp_path / "w.duckdb")
    add_tiers(conn, D(2024, 2, 1), ["A"] * 400 + ["B"] * 450 + ["C"] * 100 + ["D"] * 50, "lgbm-X")
    add_tiers(conn, MAR, ["A"] * 400 + ["B"] * 450 + ["C"] * 100 + ["D"] * 50, "lgbm-X")
    add_tiers(conn, APR, ["A"] * 200 + ["B"] * 450 + ["C"] * 200 + ["D"] * 150, "lgbm-Y")
    registry = Registry(tmp_path / "models")
    registry.record_decision("2024-02", {"status": "promoted", "champion_after": "lgbm-X"})
    registry.record_decision("2024-03", {"status": "not_retrained", "champion_after": "lgbm-X"})
    registry.record_decision("2024-04", {"status": "promoted", "champion_after": "lgbm-Y"})
    policy = monitoring_policy.load_policy()
    assert model_monitoring.build_model_monitoring(conn, "2024-04", policy, registry)["reference_month"] == "2024-04"
    stored = model_monitoring.month_rows(conn, "2024-04")
    conn.close()
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as ro:  # the printout reads only
        lines = report.closing_lines(ro, "2024-04", policy, registry)
        assert report.closing_lines(ro, "2024-03", policy, registry) == report.summary_lines(ro, "2024-03")
        assert model_monitoring.month_rows(ro, "2024-04").equals(stored)  # the stored monitoring is left as it was
    assert lines[0].startswith("model monitoring (模型监测) 2024-04, reference month 2024-02 (")
    assert "lgbm-X promoted in 2024-02" in lines[0]
    assert "2024-04 is its serving model's own reference month" in lines[1] and "against 2024-02" in lines[1]
    assert any(ln.startswith("  score PSI (points) vs 2024-02:") for ln in lines)
    assert any("tier mix PSI vs 2024-02" in ln and "significant" in ln for ln in lines)  # A 40 % → 20 %
    assert not any("is its own reference: drift shows" in ln for ln in lines)


def test_default_config_and_the_feature_drift_section_it_shares() -> None:
    policy = monitoring_policy.load_policy()
    assert policy.reference == "serving_model" and policy.pinned_month is None
    assert 8 <= len(policy.key_indicators) <= 12 and policy.bins == 10
    assert (policy.moderate, policy.significant, policy.level) == (0.10, 0.25, 0.99)
    assert policy.window_months == 3 and policy.z == 2.33 and policy.strata == ("town_no", "reference_tier")
    drift_policy = folder.current().feature_drift
    assert (drift_policy.bins, drift_policy.moderate, drift_policy.significant) == (10, 0.10, 0.25)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d["key_indicators"].append("nope"), r"model_monitoring\.key_indicators: \['nope'\] not in"),
        (
            lambda d: d["key_indicators"].append("age_years"),
            r"model_monitoring\.key_indicators: lists an indicator twice",
        ),
        (lambda d: d.update(bins=1), r"model_monitoring\.bins: must be an integer in \[2, 100\], got 1"),
        (lambda d: d.update(significant=0.05), r"model_monitoring\.significant: \(0\.05\) must not be below"),
        (lambda d: d["small_strata"].update(level=1.5), r"model_monitoring\.small_strata\.level: must be a number"),
        (lambda d: d["small_strata"].update(strata=["district"]), r"model_monitoring\.small_strata\.strata: must be"),
        (lambda d: d["reference"].update(policy="pinned"), r"model_monitoring\.reference\.month: is required when"),
        (lambda d: d["reference"].update(month="2024-13"), r"model_monitoring\.reference\.month: must be 'YYYY-MM'"),
        (lambda d: d.update(score_column="tier"), r"model_monitoring\.score_column: must be one of 'points', 'score'"),
        (lambda d: d["results"].update(z=0), r"model_monitoring\.results\.z: must be a number in \(0, 10\], got 0"),
        (lambda d: d["results"].update(min_inspections="30"), r"model_monitoring\.results\.min_inspections: must be"),
        (lambda d: d["results"].update(window=3), r"model_monitoring\.results\.window: unknown key"),
    ],
)
def test_bad_config_is_refused_naming_file_and_field(tmp_path: Path, edit, message: str) -> None:
    path = yaml_variant(tmp_path, policy_file("monitoring.yaml"), lambda doc: edit(doc["model_monitoring"]))
    with pytest.raises(ValueError, match=r"^monitoring\.yaml: " + message):
        monitoring_policy.load_policy(path)
