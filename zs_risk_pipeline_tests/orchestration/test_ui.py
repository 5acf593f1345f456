"""What a data engineer sees in the Dagster UI: only months with deliveries offered, numbers Dagster plots
(tier shares, PSI, problem-found rates, quarantined share) and a described column schema."""

from __future__ import annotations

import datetime as dt
import math
import re
from pathlib import Path

import dagster as dg
import pytest

import zs_risk_synth as synth
from zs_risk_pipeline.defs import automation, partitions
from zs_risk_pipeline.defs.metadata import column_description, floats
from zs_risk_pipeline.defs.resources import ZsRiskHome

pytestmark = pytest.mark.e2e  # whole months through Dagster (make test runs them; -m "not e2e" skips)

HAN = re.compile(r"[\u4e00-\u9fff]")
MONTHS = ["2023-01", "2023-02"]


def _deliver(landing: Path, source: str, month: str, name: str = "f.csv") -> None:
    folder = landing / source / month
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text("uscc\nX\n", encoding="utf-8")


# --- the months offered ---------------------------------------------------------------------------------------


def test_latest_delivery_is_the_latest_month_folder_with_a_file(tmp_path: Path) -> None:
    assert partitions.latest_delivery(tmp_path / "nowhere") is None
    _deliver(tmp_path, "registry", "2024-11")
    _deliver(tmp_path, "inspections", "2024-12")
    (tmp_path / "inspections" / "2025-01").mkdir()  # an empty folder is no delivery
    _deliver(tmp_path, "inspections", "2025-02", ".partial.csv")  # nor a hidden or partial file
    _deliver(tmp_path, "inspections", "latest")  # nor a folder that is not a month
    assert partitions.latest_delivery(tmp_path) == dt.date(2024, 12, 1)


def test_a_home_whose_deliveries_stopped_offers_its_months_only() -> None:
    keys = partitions.partitions_for(dt.date(2024, 12, 1), dt.date(2026, 5, 3)).get_partition_keys()
    assert keys[0] == partitions.FIRST_MONTH and keys[-1] == "2024-12-01" and len(keys) == 24


@pytest.mark.parametrize(
    "latest",
    [None, dt.date(2026, 4, 1), dt.date(2026, 5, 1), dt.date(2099, 1, 1), dt.date(2020, 1, 1)],
    ids=["nothing delivered", "month just ended", "running month", "a future folder", "before the first month"],
)
def test_a_live_or_new_home_follows_the_clock_through_the_running_month(latest: dt.date | None) -> None:
    offered = partitions.partitions_for(latest, dt.date(2026, 5, 3))
    # no fixed end: Dagster advances it with the clock, so a code server loaded months ago keeps scheduling
    assert offered.end is None and offered.end_offset == 1
    assert offered.get_partition_keys(current_time=dt.datetime(2026, 5, 3, tzinfo=dt.UTC))[-1] == "2026-05-01"


def test_valid_months_are_the_partitions_offered() -> None:
    months = partitions.valid_months()
    assert months[0] == "2023-01" and all(re.fullmatch(r"\d{4}-\d{2}", m) for m in months)
    assert all(partitions.is_valid_month(f"{m}-01") for m in months)
    assert not partitions.is_valid_month("2022-12-01")


@pytest.fixture
def stale(monkeypatch: pytest.MonkeyPatch) -> dg.MonthlyPartitionsDefinition:
    """Definitions loaded on a home whose deliveries ended in 2024-12."""
    offered = partitions.partitions_for(dt.date(2024, 12, 1), dt.date(2026, 5, 3))
    monkeypatch.setattr(automation, "is_valid_month", offered.has_partition_key)
    return offered


def test_the_schedule_skips_a_month_the_definitions_do_not_offer(stale) -> None:
    inside = automation.monthly_chain_schedule(
        dg.build_schedule_context(scheduled_execution_time=dt.datetime(2024, 12, 2, 6))
    )
    assert isinstance(inside, dg.RunRequest) and inside.partition_key == "2024-11-01"
    later = automation.monthly_chain_schedule(
        dg.build_schedule_context(scheduled_execution_time=dt.datetime(2025, 2, 2, 6))
    )
    assert isinstance(later, dg.SkipReason) and "2025-01" in (later.skip_message or "")


def test_the_sensor_keeps_files_of_months_not_offered_for_after_a_reload(
    stale, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def tick(instance: dg.DagsterInstance, cursor: str | None) -> dg.SensorResult:
        ctx = dg.build_sensor_context(
            instance=instance, cursor=cursor, resources={"zs_home": ZsRiskHome(home=str(tmp_path))}
        )
        return automation.inspection_results_sensor(ctx)

    with dg.instance_for_test() as instance:
        baseline = tick(instance, None)
        _deliver(tmp_path / "landing", "inspections", "2025-01", "late.csv")
        waiting = tick(instance, baseline.cursor)
        assert not waiting.run_requests and "2025-01" in waiting.skip_reason.skip_message
        assert "2025-01/late.csv" not in waiting.cursor  # not swallowed: still new after the reload
        monkeypatch.setattr(automation, "is_valid_month", lambda key: True)  # reloaded: the month is offered
        reloaded = tick(instance, waiting.cursor)
        assert [r.partition_key for r in reloaded.run_requests] == ["2025-01-01"]


# --- plotted numbers and described columns ---------------------------------------------------------------------


def test_undefined_numbers_are_left_out_not_plotted() -> None:
    out = floats({"a": 0.25, "b": None, "c": math.nan, "d": math.inf, "e": 0})
    assert {k: v.value for k, v in out.items()} == {"a": 0.25, "e": 0.0}
    assert all(isinstance(v, dg.FloatMetadataValue) for v in out.values())


def test_column_descriptions_come_from_comments_catalogue_contract_and_glossary() -> None:
    assert column_description("tiers", "enterprise_monthly", "tier", "Tier (分类)") == "Tier (分类)"
    assert "成立年限" in column_description("features", "enterprise_monthly", "age_years")
    assert "注册资本" in column_description("raw", "registry", "registered_capital")
    assert "第二" in column_description("tiers", "enterprise_monthly", "reason_2_points")
    assert column_description("raw", "registry", "_source_file").endswith("(来源文件)")


@pytest.fixture(scope="module")
def materialised(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, dg.MetadataValue]]:
    """Two months of a small synthetic city through the monthly chain: every asset's metadata of the second
    month, and the first month's under "<asset>@<month>"."""
    from zs_risk_pipeline.definitions import build_defs
    from zs_risk_pipeline_tests.conftest import TEST_KEY

    home = tmp_path_factory.mktemp("ui") / "home"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ZS_RISK_HOME", str(home))
        mp.setenv("ZS_RISK_PII_KEY", TEST_KEY)
        from zs_risk_pipeline.lib.core import settings

        paths = settings.home().ensure()
        synth.generate(paths.landing, paths.ground_truth, enterprises=1500, months=len(MONTHS), start=MONTHS[0], seed=3)
        job = build_defs().resolve_job_def("monthly_chain")
        md: dict[str, dict[str, dg.MetadataValue]] = {}
        with dg.instance_for_test() as instance:
            for month in MONTHS:
                result = job.execute_in_process(partition_key=f"{month}-01", instance=instance)
                assert result.success
                for event in result.get_asset_materialization_events():
                    key = event.asset_key.to_user_string()
                    md[key if month == MONTHS[-1] else f"{key}@{month}"] = dict(event.materialization.metadata)
    return md


@pytest.mark.parametrize("asset", ["features/enterprise_monthly", "tiers/enterprise_monthly"])
def test_every_column_has_a_description_in_english_and_chinese(materialised, asset: str) -> None:
    columns = materialised[asset]["dagster/column_schema"].value.columns
    assert len(columns) > 20
    for column in columns:
        text = column.description or ""
        assert re.search(r"[A-Za-z]{3,}", text) and HAN.search(text), (asset, column.name, text)


def test_every_column_schema_has_descriptions(materialised) -> None:
    schemas = {a: m["dagster/column_schema"].value for a, m in materialised.items() if "dagster/column_schema" in m}

    assert {"raw/registry", "staging/registry", "publicity/inspection_results"} <= set(schemas)
    empty = [(a, c.name) for a, s in schemas.items() for c in s.columns if not (c.description or "").strip()]
    assert not empty


def test_tier_shares_psi_problem_rates_and_quarantined_share_are_plotted_floats(materialised) -> None:
    plotted = [v for m in materialised.values() for v in m.values() if isinstance(v, dg.FloatMetadataValue)]
    assert plotted and all(v.value is not None and math.isfinite(v.value) for v in plotted)  # never NaN
    tiers = materialised["tiers/enterprise_monthly"]
    shares = [tiers[f"tier_share_{t}"].value for t in "ABCD"]
    counts = tiers["tier_counts"].value
    assert shares == pytest.approx([counts[t] / sum(counts.values()) for t in "ABCD"]) and sum(shares) == pytest.approx(
        1
    )
    watched = materialised["monitoring/model_monitoring"]
    assert isinstance(watched["score_psi_vs_reference"], dg.FloatMetadataValue)  # 2023-02 against 2023-01
    assert isinstance(watched["tier_mix_psi_vs_previous"], dg.FloatMetadataValue)
    for t in "ABCD":  # a tier without inspections in the window has no rate, and no entry
        rate = watched.get(f"problem_found_rate_{t}")
        assert rate is None or (isinstance(rate, dg.FloatMetadataValue) and 0 <= rate.value <= 1)
    staged = materialised[f"staging/registry@{MONTHS[0]}"]  # the first delivery: the whole registry
    share = staged["quarantined_share"].value
    assert share == pytest.approx(staged["quarantined_rows"].value / staged["raw_rows"].value) and 0 <= share < 1
