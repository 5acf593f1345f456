"""Tests: Credit-risk tiers (信用风险分类)."""
