"""Tests: Double-random inspections (双随机抽查): frames, the draw protocol, eligibility, plans."""
