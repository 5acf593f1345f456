"""Tests: Plain building blocks: months, transactions, the code's shape, progress display."""
