"""Tests: Monthly enterprise features (企业月度特征) and their quality gates."""
