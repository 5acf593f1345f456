"""Quality gates: Great Expectations results mapped to pass/fail with counts and examples; PSI drift."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from zs_risk_pipeline.lib.monitoring import drift, drift_checks, monitoring_policy
from zs_risk_pipeline.lib.quality import gates


def test_suite_failures_carry_severity_counts_and_examples():
    import great_expectations.expectations as gxe

    df = pd.DataFrame({"id": ["a", "b", "b", "c"], "x": [0.1, 0.5, 7.0, None]})
    res = gates.run_suite(
        df,
        "t",
        [
            gxe.ExpectColumnValuesToBeUnique(column="id"),
            gxe.ExpectColumnValuesToBeBetween(column="x", min_value=0, max_value=1),
            gxe.ExpectColumnValuesToNotBeNull(column="x", mostly=0.5, severity="warning"),
            gxe.ExpectColumnValuesToNotBeNull(column="x", severity="warning"),
        ],
    )
    assert not res.passed
    by = {(f.check, f.severity): f for f in res.failures}
    unique = by[("expect_column_values_to_be_unique", "critical")]
    assert unique.unexpected_count == 2 and set(unique.examples) == {"b"}
    assert by[("expect_column_values_to_be_between", "critical")].examples == (7.0,)
    assert [f.check for f in res.warnings] == ["expect_column_values_to_not_be_null"]
    md = res.metadata()
    assert md["critical_failures"] == 2 and md["warnings"] == 1 and md["rows_validated"] == 4


def test_warnings_alone_do_not_fail_a_gate():
    import great_expectations.expectations as gxe

    df = pd.DataFrame({"x": [1.0, None]})
    res = gates.run_suite(df, "t", [gxe.ExpectColumnValuesToNotBeNull(column="x", severity="warning")])
    assert res.passed and len(res.warnings) == 1


def test_psi_is_zero_for_the_same_distribution_and_large_for_a_shift():
    rng = np.random.default_rng(3)
    ref = pd.Series(rng.normal(size=50_000))
    same = pd.Series(rng.normal(size=50_000))
    shifted = pd.Series(rng.normal(loc=1.0, size=50_000))
    assert drift.psi(ref, same) < 0.01
    assert drift.psi(ref, shifted) > 0.25
    cats_ref = pd.Series(rng.choice(["A", "B", "C"], 10_000, p=[0.4, 0.4, 0.2]))
    cats_new = pd.Series(rng.choice(["A", "B", "C", "D"], 10_000, p=[0.1, 0.4, 0.2, 0.3]))
    assert drift.psi(cats_ref, cats_new, kind="categorical") > 0.25
    with_nulls = ref.copy()
    with_nulls[:25_000] = np.nan  # half the values going missing is drift too
    assert drift.severity(drift.psi(ref, with_nulls)) == "significant"


def test_drift_report_orders_by_psi():
    rng = np.random.default_rng(4)
    ref = pd.DataFrame({"a": rng.normal(size=5000), "b": rng.integers(0, 2, 5000)})
    cur = pd.DataFrame({"a": rng.normal(loc=2, size=5000), "b": rng.integers(0, 2, 5000)})
    rep = drift.drift_report(ref, cur, {"a": "numeric", "b": "binary"})
    assert [d.indicator for d in rep] == ["a", "b"] and rep[0].severity == "significant" and rep[1].severity == "stable"


def test_a_mostly_zero_count_moving_off_zero_is_drift_and_monitoring_sees_the_same_psi():
    # 95 % zeros in the reference: every decile is 0, and the 0 must be a bin of its own, not merged with the
    # positive counts above it (which made this PSI 0 before)
    rng = np.random.default_rng(5)
    positive = np.arange(1, 21, dtype=float)
    ref = pd.Series(np.r_[np.zeros(9_500), rng.choice(positive, 500)])
    cur = pd.Series(np.r_[np.zeros(7_000), rng.choice(positive, 3_000)])
    value = drift.psi(ref, cur, kind="numeric", bins=10)
    assert value == pytest.approx(0.25 * math.log(0.30 / 0.05) + 0.25 * math.log(0.95 / 0.70), rel=1e-9)  # ≈ 0.524
    assert value > 0.25 and drift.severity(value) == "significant"
    report = drift.drift_report(
        pd.DataFrame({"complaints_12m": ref}), pd.DataFrame({"complaints_12m": cur}), {"complaints_12m": "numeric"}
    )
    assert report[0].severity == "significant" and report[0].psi == round(value, 6)
    # the model-monitoring row of the same indicator on the same data: one binning, one formula
    frame = pd.concat([ref, cur], ignore_index=True).to_frame("complaints_12m")
    frame["is_current"] = np.r_[np.zeros(len(ref), bool), np.ones(len(cur), bool)]
    policy = replace(monitoring_policy.load_policy(), key_indicators=("complaints_12m",), strata=())
    (row,) = drift_checks.indicator_drift(frame, policy)
    assert row["metric"] == "indicator_psi" and row["status"] == "significant"
    assert row["value"] == pytest.approx(value, abs=1e-9)
    assert row["detail"]["bins"] == 2  # the zero atom and the positive counts; no NULLs, nothing below 0
