"""The code location: loads, and its asset graph is what we expect (snapshot, DOP-style)."""

from __future__ import annotations

import re
from pathlib import Path

import dagster as dg
import pytest

from zs_risk_pipeline.definitions import build_defs
from zs_risk_pipeline.lib.ingest.contract import sources

HAN = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def defs() -> dg.Definitions:
    return build_defs()


def test_definitions_load(defs):
    dg.Definitions.validate_loadable(defs)
    assert defs.resolve_job_def("monthly_chain") is not None


def test_asset_graph_snapshot(defs, snapshot):
    """Catches assets or checks silently dropped by autoload, renamed, re-described, re-tagged, moved out of the
    DuckDB pool or no longer blocking: a refactor keeps this as it is; update with pytest --snapshot-update."""
    graph = {}
    for spec in sorted(defs.resolve_all_asset_specs(), key=lambda s: s.key.to_user_string()):
        node = defs.resolve_assets_def(spec.key).node_def
        graph[spec.key.to_user_string()] = {
            "group": spec.group_name,
            "deps": sorted(d.asset_key.to_user_string() for d in spec.deps),
            "kinds": sorted(spec.kinds),
            "owners": list(spec.owners),
            "partitioned": spec.partitions_def is not None,
            "pool": getattr(node, "pool", None),
            "tags": {k: v for k, v in sorted(spec.tags.items()) if not k.startswith("dagster/")},
            "description": spec.description,
        }
    asset_graph = defs.resolve_asset_graph()
    checks = {}
    for key in sorted(asset_graph.asset_check_keys, key=lambda k: (k.asset_key.to_user_string(), k.name)):
        check = asset_graph.get_check_spec(key)
        checks[f"{key.asset_key.to_user_string()}:{key.name}"] = {
            "blocking": check.blocking,
            "partitioned": check.partitions_def is not None,
            "description": check.description,
        }
    assert {"assets": graph, "checks": checks} == snapshot


def test_every_source_has_raw_and_staging_assets(defs):
    keys = {k.to_user_string() for k in defs.resolve_all_asset_keys()}
    for name in sources():
        assert {f"raw/{name}", f"staging/{name}"} <= keys


def test_every_asset_is_described_in_english_and_chinese(defs):
    for spec in defs.resolve_all_asset_specs():
        text = spec.description or ""
        assert re.search(r"[A-Za-z]{4,}", text) and HAN.search(text), spec.key
        assert spec.owners and spec.group_name and spec.kinds, spec.key


def test_staging_is_gated_by_a_blocking_reconciliation_check(defs):
    graph = defs.resolve_asset_graph()
    blocking = {
        k.asset_key.to_user_string()
        for k in graph.asset_check_keys
        if k.name == "raw_equals_staged_plus_quarantined" and graph.get_check_spec(k).blocking
    }
    assert blocking == {f"staging/{name}" for name in sources()}


def test_every_publish_is_gated_by_blocking_checks_on_what_it_publishes(defs):
    graph = defs.resolve_asset_graph()
    blocking_on = {k.asset_key for k in graph.asset_check_keys if graph.get_check_spec(k).blocking}
    publishes = [s for s in defs.resolve_all_asset_specs() if s.group_name == "publish"]
    assert publishes
    for spec in publishes:
        upstream = {d.asset_key for d in spec.deps}
        assert upstream and upstream <= blocking_on, spec.key


def test_the_global_policy_is_applied_in_one_place() -> None:
    from zs_risk_pipeline.defs import global_policy

    for spec in build_defs().resolve_all_asset_specs():
        assert list(spec.owners) == list(global_policy.OWNERS) and spec.kinds, spec.key
    # no asset names owners itself, and a group without a policy is refused by name
    defs_dir = Path(global_policy.__file__).parent
    declared = [p.name for p in defs_dir.rglob("*.py") if "owners=" in p.read_text(encoding="utf-8")]
    assert declared == ["global_policy.py"]
    with pytest.raises(ValueError, match="group 'nowhere' has no policy"):
        global_policy.apply(dg.AssetSpec("x", group_name="nowhere"))


def test_every_audited_gate_that_reads_the_home_declares_it() -> None:
    """A gate reading `run.paths` (the model registry) gets the home only when its check says uses_home=True;
    without it the check would fail only when a month runs. Read from the source, so no month has to run."""
    import ast

    import zs_risk_pipeline.defs as defs_package
    from zs_risk_pipeline.defs import audit

    gates = 0
    for path in sorted(Path(defs_package.__file__).parent.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.FunctionDef):
                continue
            for deco in node.decorator_list:
                if not (isinstance(deco, ast.Call) and getattr(deco.func, "id", None) == "audited_check"):
                    continue
                gates += 1
                run = node.args.args[3].arg  # (conn, month, fp, run)
                reads_home = any(
                    isinstance(n, ast.Attribute) and n.attr == "paths" and getattr(n.value, "id", None) == run
                    for n in ast.walk(node)
                )
                declared = any(
                    k.arg == "uses_home" and isinstance(k.value, ast.Constant) and k.value.value for k in deco.keywords
                )
                assert declared == reads_home, f"{path.name}: {node.name} reads run.paths={reads_home}"
    assert gates >= 9
    with pytest.raises(RuntimeError, match="uses_home=True"):
        _ = audit.RunInputs(policy=None).paths  # type: ignore[arg-type]
