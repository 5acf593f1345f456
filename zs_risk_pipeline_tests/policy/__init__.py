"""Tests: operator policy (政策口径): the typed models, the policy folder, the shipped files."""
