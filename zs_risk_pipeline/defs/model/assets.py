"""Model group (风险模型): the monthly challenger, compared with the champion on the same holdout."""

from pathlib import Path
from typing import Any

import dagster as dg
from dagster_duckdb import DuckDBResource

from zs_risk_pipeline.defs.global_policy import POOL
from zs_risk_pipeline.defs.metadata import floats
from zs_risk_pipeline.defs.partitions import monthly
from zs_risk_pipeline.defs.resources import ZsRiskHome, ZsRiskPolicy
from zs_risk_pipeline.lib.model import promotion
from zs_risk_pipeline.lib.model.registry import Registry
from zs_risk_pipeline.lib.publish import tables

RISK_MODEL = dg.AssetKey(["model", "risk_model"])


def _md_table(rows: list[dict], columns: list[str]) -> dg.MetadataValue:
    head = "| " + " | ".join(columns) + " |\n|" + "---|" * len(columns) + "\n"
    body = "\n".join("| " + " | ".join(str(r.get(c, "")) for c in columns) + " |" for r in rows)
    return dg.MetadataValue.md(head + body)


def _fmt(v: object) -> str:
    return f"{v:.4f}" if isinstance(v, float) else ("—" if v is None else str(v))


@dg.asset(
    key=RISK_MODEL,
    deps=[
        dg.AssetKey(["features", "enterprise_monthly"]),
        dg.AssetKey(["staging", "inspections"]),
        dg.AssetKey(["staging", "plans"]),
    ],
    group_name="model",
    partitions_def=monthly,
    pool=POOL,
    description=(
        "Trains the month's LightGBM challenger on labels from random inspections only (features of the month "
        "before, weight 1/π of the drawing plan), early stopping and Platt calibration on a time-based validation "
        "window, monotone constraints from the indicator catalogue; compares it with the champion and the points "
        "scorecard on the same holdout and promotes it only through the gate of config/model.yaml, which decides "
        "on the expected problems found per inspection at the plans' budget (promotion.decide_on; AUC, KS and "
        "Brier reported beside) and records which metric decided. Below the "
        "label threshold of config/scorecard.yaml the scorecard serves (cold start). Registry in "
        "$ZS_RISK_HOME/models/. 风险模型：仅以双随机抽查结果为标签（按入选概率倒数加权），时间切分验证，"
        "单调约束，冠军/挑战者按抽查比例预期发现问题率择优；标签不足时以评分卡冷启动。"
    ),
)
def risk_model(
    context: dg.AssetExecutionContext, warehouse: DuckDBResource, zs_home: ZsRiskHome, policy: ZsRiskPolicy
) -> dg.MaterializeResult:
    month = context.partition_key
    paths = zs_home.paths()
    registry = Registry(paths.models)
    loaded = policy.load()
    with warehouse.get_connection() as conn:
        population = tables.month_frame(conn, tables.MART_TABLES["enterprise_features"], month)
        decision = promotion.run_month(
            conn, month, population, registry, loaded.scorecard, loaded.tier_policy, loaded.model, loaded.sampling_plans
        )
    return dg.MaterializeResult(metadata=decision_metadata(decision, paths.models))


def decision_metadata(decision: dict[str, Any], models: Path) -> dict[str, object]:
    """The month's decision as the asset's metadata: which metric decided and the scorers' values for it, the
    holdout comparison as a table, and the numbers Dagster plots."""
    md: dict[str, object] = {
        "status": decision["status"],
        "champion_before": decision["champion_before"] or "scorecard (cold start)",
        "champion_after": decision["champion_after"] or "scorecard (cold start)",
        "challenger": decision["trained"] or "none",
        "decision_reasons": decision["reasons"],
        "label_funnel": decision["funnel"],
        "registry": dg.MetadataValue.path(str(models)),
    }
    holdout = decision.get("holdout")
    if holdout:
        md["decided_on"] = f"{decision['decided_on']} ({promotion.METRICS[decision['decided_on']]})"
        md["verdict"] = decision["verdict"]
        md["budget"] = decision["budget"]
        scorers = [(name, holdout[name]) for name in ("challenger", "champion", "scorecard") if holdout[name]]
        rows = [
            {
                "scorer": name,
                "hit_rate_at_budget": _fmt(m["found_at_budget"]["hit_rate"]),
                "found_at_budget": _fmt(m["found_at_budget"]["found"]),
                "budget": _fmt(m["found_at_budget"]["budget"]),
                **{k: _fmt(m.get(k)) for k in ("labels", "auc", "ks", "brier")},
                "rate A/B/C/D": " / ".join(_fmt(m["problem_rate_by_tier"].get(t)) for t in "ABCD"),
            }
            for name, m in scorers
        ]
        md["holdout_comparison"] = _md_table(rows, list(rows[0]))
        md["challenger_auc"] = holdout["challenger"]["auc"]
        md["scorecard_auc"] = holdout["scorecard"]["auc"]
        # Plots: expected problems found per inspection at the plans' budget, each scorer the holdout could measure.
        md |= floats({f"{name}_hit_rate_at_budget": m["found_at_budget"]["hit_rate"] for name, m in scorers})
    return md


@dg.asset_check(
    asset=RISK_MODEL,
    name="serving_model_promotion_gate",
    blocking=True,
    partitions_def=monthly,
    description=(
        "The model serving this month passed the promotion gate (on the metric of promotion.decide_on, by default "
        "the expected problems found at the plans' budget: not worse than the champion within tolerance, not "
        "below the scorecard; AUC defined; tier ordering A<B<C<D on the holdout) and its file matches the "
        "registry's SHA-256. A refused challenger leaves the champion serving, which still passes. "
        "模型晋级闸门：在役模型须通过冠军/挑战者比较且文件哈希与注册表一致。"
    ),
)
def serving_model_promotion_gate(context: dg.AssetCheckExecutionContext, zs_home: ZsRiskHome) -> dg.AssetCheckResult:
    registry = Registry(zs_home.paths().models)
    month = context.partition_key[:7]
    decision = registry.decision(month)
    if decision is None:
        return dg.AssetCheckResult(passed=False, metadata={"problem": f"no decision recorded for {month}"})
    serving = decision.get("champion_after")
    if serving is None:
        return dg.AssetCheckResult(passed=True, metadata={"serving": "scorecard (cold start)"})
    problems = registry.verify(serving)
    entry = registry.entry(serving) if not problems else {}
    promoted: list[dict[str, Any]] = []
    if entry:
        promoted = [d for d in registry.decisions() if d.get("trained") == serving and d.get("promoted")]
        if not promoted:
            problems.append(f"{serving} serves but no decision shows it passing the promotion gate")
    metadata = {"serving": serving, "problems": problems, "sha256": entry.get("sha256", "")}
    if promoted:
        # Promotions recorded before the gate said which metric decided were decided on AUC.
        metadata["promoted_in"] = promoted[-1]["month"]
        metadata["decided_on"] = promoted[-1].get("decided_on", "auc")
        metadata["verdict"] = promoted[-1].get("verdict") or "; ".join(promoted[-1]["reasons"])
    return dg.AssetCheckResult(passed=not problems, metadata=metadata)
