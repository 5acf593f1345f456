"""The one monthly partitioning of the pipeline (月度分区): key 2024-03-01 means data through 2024-03-31."""

import dagster as dg

FIRST_MONTH = "2023-01-01"

monthly = dg.MonthlyPartitionsDefinition(start_date=FIRST_MONTH)
