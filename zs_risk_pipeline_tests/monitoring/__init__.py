"""Tests: Monitoring (监测预警): model monitoring and early warnings."""
