"""Regional and industry rollups and risk analysis (区域、行业汇总与综合研判): the statistics that find high-risk
towns and industries early (hotspots.py), sound with the small counts of town × industry cells."""
