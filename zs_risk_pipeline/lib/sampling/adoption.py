"""Adopting a proposal of ratios (采纳抽查比例调整建议): an operator's reviewed decision, written into the policy.

sampling/allocation proposes, every month M, the annual ratios of the plans of M+1 (lib/sampling/proposals.py);
nothing is adopted by itself. `adopt(conn, month, reports)` is the operator's step: it writes the proposal of M into
sampling_plans.yaml of the policy folder in use, changing only the proposed ratios (comments and layout kept), and
only if the proposal still stands:

- it was computed under the policy now in force (the policy version its rows record equals the folder's): a
  proposal from before an edit of the policy, or already adopted, is refused, and the error says how to go on;
- its report file agrees with its rows in sampling.allocation (an edited report is refused);
- the result validates as sampling_plans.yaml (its legal floor among the rules).

The shipped policy folder is never written: an operator adopts into their own (ZS_RISK_CONFIG). The plans already
published keep their ratios: the adopted ones apply from the next draw. What was adopted, from which version to
which, is recorded beside the proposal (reports/allocation/<YYYY-MM>/adopted.json). Plain Python, no Dagster.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import yaml

from zs_risk_pipeline.lib.core import resources
from zs_risk_pipeline.lib.core.files import write_private
from zs_risk_pipeline.lib.core.month import Month
from zs_risk_pipeline.lib.core.sql import run_sql, table_exists
from zs_risk_pipeline.lib.policy import base, folder, versions
from zs_risk_pipeline.lib.policy.folder import Policy
from zs_risk_pipeline.lib.policy.sampling_plans import SamplingPlansFile
from zs_risk_pipeline.lib.sampling import frames, proposals

RECORD_FILE = "adopted.json"


class AdoptionError(RuntimeError):
    """A proposal that cannot be adopted as it stands; the message says why and what to do."""


@dataclass(frozen=True)
class Adoption:
    month: str  # the tier month M of the proposal (the ratios apply to the draws after the plans of M+1)
    policy_file: Path
    changes: dict[tuple[str, str], tuple[str, str]]  # (plan prefix, tier) → (ratio before, ratio adopted)
    version_before: str  # the allocation's policy version the proposal was computed under
    version_after: str

    def summary(self) -> str:
        """The changes per plan: "MR-GENERAL B 0.05→0.037, D 0.60→0.65; MR-FOOD …" ("no ratio changed")."""
        by_plan: dict[str, list[str]] = {}
        for (plan, tier), (before, after) in sorted(self.changes.items()):
            by_plan.setdefault(plan, []).append(f"{tier} {before}→{after}")
        return "; ".join(f"{plan} {', '.join(t)}" for plan, t in by_plan.items()) or "no ratio changed"

    def lines(self) -> list[str]:
        if not self.changes:
            return [f"the proposal of {self.month} changes no ratio: {self.policy_file} left as it is"]
        return [f"adopted the proposal of {self.month} into {self.policy_file}: {self.summary()}"]


def _ratios(doc: Any) -> dict[tuple[str, str], str]:
    return {(p["id"], t): str(r["ratio"]) for p in doc["plans"] for t, r in p["tiers"].items()}


def adopt(conn: duckdb.DuckDBPyConnection, month: str, reports: Path, policy: Policy | None = None) -> Adoption:
    """Write the proposal of tier month `month` into the policy folder in use (or `policy`'s); AdoptionError when
    it cannot be adopted as it stands."""
    policy = policy or folder.current()
    m = Month.of(month)
    target = policy.folder / proposals.PROPOSAL_FILE
    if policy.folder.resolve() == resources.shipped_config_dir().resolve():
        raise AdoptionError(
            f"the policy folder in use is the shipped one ({policy.folder}): adopt into your own copy "
            f"({resources.CONFIG_ENV}=<folder>), never into the code's defaults"
        )
    known = table_exists(conn, "sampling", "allocation")
    rows = run_sql(conn, "intermediate/sampling.allocation.sql#proposal_of_month", {"month": m.start}) if known else []
    if not rows:
        raise AdoptionError(f"no proposal for {m.label} in {proposals.TABLE}: materialise sampling/allocation first")
    made_under = {r[4] for r in rows}
    now = versions.current("allocation", policy).version
    if made_under != {now}:
        record = reports / "allocation" / m.label / RECORD_FILE
        already = record.is_file() and json.loads(record.read_text(encoding="utf-8")).get("version_after") == now
        raise AdoptionError(
            f"the proposal of {m.label} is already adopted in {policy.folder}"
            if already
            else f"the proposal of {m.label} was computed under policy version {', '.join(sorted(made_under))}; "
            f"the policy folder {policy.folder} is now at {now}: rerun sampling/allocation for {m.label} on the policy "
            "in force, review the new proposal, then adopt it"
        )
    report = reports / "allocation" / m.label / proposals.PROPOSAL_FILE
    if not report.is_file():
        raise AdoptionError(f"{report} is missing: rerun sampling/allocation for {m.label}")
    doc = yaml.safe_load(report.read_text(encoding="utf-8"))
    base.validate(SamplingPlansFile, doc, str(report))
    proposed = _ratios(doc)
    suffix = f"-{frames.plan_month(m.start):%Y-%m}"
    for plan_id, tier, _, ratio, _ in rows:
        key = (plan_id.removesuffix(suffix), tier)
        if key not in proposed or abs(float(Decimal(proposed[key])) - ratio) > 1e-9:
            raise AdoptionError(
                f"{report}: {key[0]} {tier} reads {proposed.get(key)}, but the proposal of {m.label} in "
                f"{proposals.TABLE} is {ratio:g}: the report was edited; rerun sampling/allocation for {m.label}"
            )
    source = target.read_text(encoding="utf-8")
    current = _ratios(yaml.safe_load(source))
    changes = {k: (v, proposed[k]) for k, v in current.items() if k in proposed and Decimal(v) != Decimal(proposed[k])}
    adoption = Adoption(m.label, target, changes, now, now)
    if not changes:
        return adoption
    text = proposals.with_ratios(source, {k: after for k, (_, after) in changes.items()})
    base.validate(SamplingPlansFile, yaml.safe_load(text), str(target))
    write_private(target, text)
    after = versions.current("allocation", folder.load_policy_folder(policy.folder)).version
    adoption = Adoption(m.label, target, changes, now, after)
    record = {
        "month": m.label,
        "policy_file": str(target),
        "changes": [{"plan": p, "tier": t, "before": b, "adopted": a} for (p, t), (b, a) in sorted(changes.items())],
        "version_before": now,
        "version_after": after,
    }
    text = json.dumps(record, ensure_ascii=False, indent=1) + "\n"
    write_private(reports / "allocation" / m.label / RECORD_FILE, text)
    return adoption
