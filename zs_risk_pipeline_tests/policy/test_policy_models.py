"""The typed policy (lib/policy): each rule a file's model enforces, refused in one line naming the file and the
field; the folder validated as a whole and cached by its hashes; the `policy` resource a run validates at start.

The rules of the scorecard, tier policy, sampling plans, warning rules, monitoring, deliveries and publicity files
are tested beside the code that uses them (test_scorecard.py, test_tiers.py, test_sampling.py, ...); here are
the others and what every file shares."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import dagster as dg
import pytest

from zs_risk_pipeline import cli
from zs_risk_pipeline.defs.resources import ZsRiskPolicy
from zs_risk_pipeline.lib.core import resources
from zs_risk_pipeline.lib.features import enterprise_monthly
from zs_risk_pipeline.lib.model import model_config, scorecard
from zs_risk_pipeline.lib.policy import base, folder, versions
from zs_risk_pipeline.lib.tiers import classify
from zs_risk_pipeline_tests.conftest import POLICY_FIXTURE, policy_file, policy_variant, yaml_variant


def refused(tmp_path: Path, name: str, edit, load) -> str:
    """The one-line error of loading the pinned file `name` with one edit."""
    with pytest.raises(base.PolicyError) as err:
        load(yaml_variant(tmp_path, policy_file(name), edit))
    message = str(err.value)
    assert "\n" not in message and message.startswith(f"{name}: ")
    return message


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d["lightgbm"].pop("seed"), "lightgbm: must fix seed and num_threads (determinism)"),
        (lambda d: d["lightgbm"].update(objective="regression"), "lightgbm: must not set ['objective']"),
        (lambda d: d["windows"].update(holdout_months=0), "windows.holdout_months: must be a positive integer, got 0"),
        (lambda d: d["windows"].update(validation_months="3"), "windows.validation_months: must be an integer"),
        (lambda d: d["windows"].pop("max_history_months"), "windows.max_history_months: is required"),
        (lambda d: d.update(num_boost_round=True), "num_boost_round: must be an integer, got True"),
        (lambda d: d["promotion"].update(auc_tolerance=1), "promotion.auc_tolerance: must be a number in [0, 1)"),
        (lambda d: d["promotion"].update(decide_on="ks"), "decide_on: 'ks' not in ['found_at_budget', 'auc']"),
        (lambda d: d["promotion"].update(hit_rate_tolerance=-0.01), "hit_rate_tolerance: must be a number in [0, 1)"),
        (lambda d: d["promotion"].update(require_increasing_tiers="yes"), "require_increasing_tiers: must be true"),
        (lambda d: d["retraining"].update(min_new_labels=0), "retraining.min_new_labels: must be a positive integer"),
        (lambda d: d.update(version=0), "version: must be a positive integer, got 0"),
        (lambda d: d.update(holdout=6), "holdout: unknown key (allowed: early_stopping_rounds, lightgbm"),
    ],
)
def test_model_policy_rules(tmp_path: Path, edit, message: str) -> None:
    assert message in refused(tmp_path, "model.yaml", edit, model_config.load_config)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d.update(entity_types_in_scope=[]), "entity_types_in_scope: must be a non-empty list"),
        (lambda d: d.update(entity_types_in_scope=["有限责任公司", 7]), "entity_types_in_scope: must be a non-empty"),
        (lambda d: d["entity_types_in_scope"].append("合伙企业"), "entity_types_in_scope: lists an entity type twice"),
        (lambda d: d.update(individuals=True), "individuals: unknown key (allowed: entity_types_in_scope)"),
    ],
)
def test_feature_scope_rules(tmp_path: Path, edit, message: str) -> None:
    assert message in refused(tmp_path, "features.yaml", edit, enterprise_monthly.entity_types_in_scope)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d["feature_drift"].update(bins=1), "feature_drift.bins: must be an integer in [2, 100], got 1"),
        (lambda d: d["feature_drift"].update(significant=0.01), "feature_drift.significant: (0.01) must not be below"),
        (lambda d: d["feature_drift"].update(moderate=0), "feature_drift.moderate: must be a number in (0, 10]"),
        (lambda d: d.pop("feature_drift"), "monitoring.yaml: feature_drift: is required"),
    ],
)
def test_feature_drift_rules(tmp_path: Path, edit, message: str) -> None:
    assert message in refused(tmp_path, "monitoring.yaml", edit, lambda p: base.load_file(folder.MODELS[p.name], p))


def test_a_file_that_is_no_mapping_or_no_yaml_is_refused_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "tier_policy.yaml").write_text("- A\n- B\n", encoding="utf-8")
    with pytest.raises(base.PolicyError, match=r"^tier_policy\.yaml: must be a mapping, got \['A', 'B'\]$"):
        base.load_file(folder.MODELS["tier_policy.yaml"], tmp_path / "tier_policy.yaml")
    (tmp_path / "tier_policy.yaml").write_text("method: [target_shares\n", encoding="utf-8")
    with pytest.raises(base.PolicyError, match=r"^tier_policy\.yaml: is not valid YAML: ") as err:
        base.load_file(folder.MODELS["tier_policy.yaml"], tmp_path / "tier_policy.yaml")
    assert "\n" not in str(err.value)


def test_field_paths_count_list_entries_from_one_and_name_them() -> None:
    doc = {"plans": [{"id": "MR-A"}, {"id": "MR-B", "items": [{"name_zh": "x"}]}], "rules": {"tier_jump": {}}}
    assert base.field_path(("plans", 1, "items", 0, "domain"), doc) == "plan 2 (MR-B) item 1 domain"
    assert base.field_path(("plans", 0, "tiers", "C", "ratio"), doc) == "plan 1 (MR-A) tiers.C.ratio"
    assert base.field_path(("rules", "tier_jump", "severity"), doc) == "rules.tier_jump.severity"
    assert base.field_path(("key_indicators", 2), {"key_indicators": ["a", "b", "c"]}) == "key_indicators item 3"
    assert base.field_path((), doc) == ""


# --- the folder as a whole ---------------------------------------------------------------------------------


def test_the_folder_is_validated_at_once_and_the_first_bad_file_named(tmp_path: Path) -> None:
    bad = policy_variant(tmp_path, "tier_policy.yaml", lambda d: d["target_shares"].update(A=0.5))
    yaml_variant(bad, POLICY_FIXTURE / "warning_rules.yaml", lambda d: d["rules"]["tier_jump"].update(enabled=1))
    with pytest.raises(base.PolicyError, match=r"^tier_policy\.yaml: target_shares: must be non-negative and sum"):
        folder.load_policy_folder(bad)
    (bad / "scorecard.yaml").unlink()
    with pytest.raises(resources.ConfigError, match=r"lacks scorecard\.yaml$"):
        folder.load_policy_folder(bad)
    with pytest.raises(resources.ConfigError, match="does not exist"):
        folder.load_policy_folder(tmp_path / "nowhere")


def test_the_folder_is_cached_by_its_hashes(tmp_path: Path) -> None:
    copy = tmp_path / "policy"
    shutil.copytree(POLICY_FIXTURE, copy)
    first = folder.load_policy_folder(copy)
    assert folder.load_policy_folder(copy) is first  # validated once while no file changes
    assert first.tier_policy is first.tier_policy  # and its domain objects built once
    # a comment is no policy change: a new load, the same canonical hashes and versions
    path = copy / "tier_policy.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "# a note\n", encoding="utf-8")
    commented = folder.load_policy_folder(copy)
    assert commented is not first and commented.hashes == first.hashes
    assert versions.current("tiers", commented) == versions.current("tiers", first)
    # a value is
    yaml_variant(copy, POLICY_FIXTURE / "tier_policy.yaml", lambda d: d.update(share_tolerance=0.03))
    edited = folder.load_policy_folder(copy)
    assert edited.tier_policy.share_tolerance == 0.03 and first.tier_policy.share_tolerance == 0.02
    assert versions.current("tiers", edited).version != versions.current("tiers", first).version
    assert versions.current("features", edited) == versions.current("features", first)


def test_hashes_are_those_outputs_always_recorded() -> None:
    policy = folder.current()
    # the canonical content hash of every YAML file (dagster.yaml included, as the publish log's config hash)
    for path in sorted(POLICY_FIXTURE.glob("*.yaml")):
        assert policy.hashes[path.name] == versions.file_hash(path)
    # the scorecard's version names the SHA-256 of the file's bytes, comments included
    digest = hashlib.sha256(policy_file("scorecard.yaml").read_bytes()).hexdigest()[:12]
    assert classify.scorecard_version(scorecard.load_scorecard()) == f"scorecard-v1-{digest}"
    assert scorecard.load_scorecard(policy_file("scorecard.yaml")).digest == digest


def test_loaders_hand_out_copies_a_caller_may_change() -> None:
    from zs_risk_pipeline.lib.monitoring import early_warnings
    from zs_risk_pipeline.lib.sampling import plan_policy

    rules = early_warnings.load_rules()
    rules.pop("tier_jump")
    assert "tier_jump" in early_warnings.load_rules()
    plans = plan_policy.load_plans()
    plans.clear()
    assert plan_policy.load_plans()


# --- the resource and the command --------------------------------------------------------------------------


def test_the_resource_validates_its_folder_when_a_run_starts(tmp_path: Path) -> None:
    with dg.build_resources({"policy": ZsRiskPolicy()}) as res:
        assert res.policy.load() is folder.current()
    good = policy_variant(tmp_path / "good", "tier_policy.yaml", lambda d: d.update(share_tolerance=0.05))
    with dg.build_resources({"policy": ZsRiskPolicy(folder=str(good))}) as res:
        assert res.policy.load().tier_policy.share_tolerance == 0.05
    bad = policy_variant(tmp_path / "bad", "model.yaml", lambda d: d["lightgbm"].pop("num_threads"))
    with (
        pytest.raises(dg.DagsterResourceFunctionError) as err,
        dg.build_resources({"policy": ZsRiskPolicy(folder=str(bad))}),
    ):
        pass
    assert isinstance(err.value.__cause__, base.PolicyError)
    assert str(err.value.__cause__) == "model.yaml: lightgbm: must fix seed and num_threads (determinism)"


def test_the_code_location_gives_every_asset_the_policy_resource() -> None:
    from zs_risk_pipeline.definitions import build_defs

    defs = build_defs()
    policy = defs.resources["policy"]
    assert isinstance(policy, ZsRiskPolicy) and Path(policy.folder) == resources.config_dir()


def test_the_command_refuses_a_bad_policy_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = policy_variant(tmp_path, "sampling_plans.yaml", lambda d: d["plans"][1]["tiers"]["C"].update(ratio=0.2))
    monkeypatch.setenv(resources.CONFIG_ENV, str(bad))
    assert cli.main(["--home", str(tmp_path / "home"), "summary"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith(f"zs-risk: policy folder {bad}: sampling_plans.yaml: plan 2 (MR-FOOD) tiers.C.ratio: ")
    assert "quote it in YAML" in err[0]
    assert not (tmp_path / "home").exists()
