"""Tests: The Dagster code location: definitions, monthly runs, sensors, storage, the UI."""
