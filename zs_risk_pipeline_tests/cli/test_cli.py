"""The zs-risk command: synth, backfill, summary and verify on a tiny city (命令行)."""

from __future__ import annotations

import re

import pytest

from zs_risk_pipeline import cli

pytestmark = pytest.mark.e2e  # whole months through Dagster (make test runs them; -m "not e2e" skips)


def test_synth_backfill_summary_and_verify(home, capsys):
    assert cli.main(["synth", "--enterprises", "800", "--months", "2", "--start", "2023-01", "--seed", "5"]) == 0
    out = capsys.readouterr().out
    assert "synthetic Zhongshan written to" in out and "registry" in out
    assert any(home.landing.glob("registry/2023-01/*.csv")) and (home.ground_truth / "latent_risk.parquet").exists()

    assert cli.main(["backfill", "--from", "2023-01", "--to", "2023-02"]) == 0
    out = capsys.readouterr().out
    assert "[1/2] 2023-01: ok" in out and "[2/2] 2023-02: ok" in out
    assert "[1/2] 2023-01  ingest ✓ features ✓" in out  # the progress line: each group marked as it completes
    assert "of 2 runs" in out or "warnings: none in 2 runs" in out  # the range's warnings, tallied once
    assert "warnings (never block)" not in out  # and not named again run by run
    if "routine warnings" in out:  # counted on the run's own line
        assert re.search(r"\[1/2\] 2023-01: ok, .* checks passed \(\d+ warnings?\)", out)
    log = (home.home / "logs" / "run.log").read_text(encoding="utf-8")  # Dagster's own record of the runs
    assert "STEP_SUCCESS" in log and "[2/2] 2023-02" in log and "Traceback" not in out

    assert cli.main(["summary"]) == 0
    out = capsys.readouterr().out
    assert "enterprise_features" in out and "2 months (2023-01 … 2023-02)" in out

    assert cli.main(["verify"]) == 0
    assert "intact" in capsys.readouterr().out
    published = next(home.mart.glob("data/enterprise_features/month=2023-01/data.parquet"))
    published.write_bytes(published.read_bytes()[:-10])
    assert cli.main(["verify"]) == 1
    assert "TAMPERED: data/enterprise_features/month=2023-01/data.parquet" in capsys.readouterr().out


@pytest.mark.parametrize("bad", ["2023-13", "23-01", "2023/01"])
def test_month_arguments_are_validated(home, bad):
    with pytest.raises(SystemExit):
        cli.main(["run", "--month", bad])
