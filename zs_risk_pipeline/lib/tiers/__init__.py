"""Credit-risk tiers (信用风险分类): the tier policy, the monthly classification of every enterprise, and its
expectations."""
