"""Jobs (作业): the monthly chain that `zs-risk run` and the UI launch for one partition, and the small job that
publishes inspection results the day they arrive."""

import dagster as dg

# Groups of the monthly chain, in data-flow order; later stages add themselves here.
MONTHLY_GROUPS = [
    "ingest",
    "features",
    "model",
    "tiers",
    "monitoring",
    "sampling",
    "effectiveness",
    "publicity",
    "reporting",
    "publish",
]

monthly_chain = dg.define_asset_job(
    "monthly_chain",
    selection=dg.AssetSelection.groups(*MONTHLY_GROUPS),
    description="Everything one month needs, from landing files on (月度全链路).",
)

# Only what publishing new results needs: the month's other sources and the chain wait for the month's end.
results_on_arrival = dg.define_asset_job(
    "results_on_arrival",
    selection=dg.AssetSelection.assets(
        dg.AssetKey(["raw", "inspections"]),
        dg.AssetKey(["staging", "inspections"]),
        dg.AssetKey(["publicity", "result_batches"]),
    ),
    description=(
        "Lands and stages the running month's inspection results and publishes every new results file as a "
        "one-public batch, the day it arrives (抽查结果随到随公示)."
    ),
)
