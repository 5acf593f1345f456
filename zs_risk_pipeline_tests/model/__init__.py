"""Tests: The risk model (风险模型): scorecard, LightGBM, metrics."""
