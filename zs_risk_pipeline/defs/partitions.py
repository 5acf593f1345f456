"""The one monthly partitioning of the pipeline (月度分区): key 2024-03-01 means data through 2024-03-31."""

import dagster as dg

FIRST_MONTH = "2023-01-01"

# end_offset=1: the running month is a partition too, so results arriving during it can be published the day they
# arrive (job results_on_arrival). The monthly chain still builds a month only once it has ended (the schedule
# requests the month just ended; the sensor never requests the running month's chain).
monthly = dg.MonthlyPartitionsDefinition(start_date=FIRST_MONTH, end_offset=1)
