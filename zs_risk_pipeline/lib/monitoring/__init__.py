"""Monitoring (监测预警): model monitoring, indicator drift, and the early-warning rules."""
