"""Tests: The synthetic Zhongshan (合成中山)."""
