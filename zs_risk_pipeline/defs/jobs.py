"""Jobs (作业): the monthly chain that `zs-risk run` and the UI launch for one partition."""

import dagster as dg

# Groups of the monthly chain, in data-flow order; later stages add themselves here.
MONTHLY_GROUPS = ["ingest", "features", "model", "tiers", "monitoring", "sampling", "publicity", "publish"]

monthly_chain = dg.define_asset_job(
    "monthly_chain",
    selection=dg.AssetSelection.groups(*MONTHLY_GROUPS),
    description="Everything one month needs, from landing files on (月度全链路).",
)
