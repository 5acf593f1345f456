"""Tests: One-public exports (一公开) and their Excel copies."""
