"""Data-quality gates (数据质量关卡): Great Expectations suites and SQL checks, run the same way for every table."""
