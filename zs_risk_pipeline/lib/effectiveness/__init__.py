"""Effectiveness of supervision (监管效能): what the inspections find, estimated without the hidden truth."""
