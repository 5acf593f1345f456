"""Expectation suites as code (校验规则): one builder function per table, reviewable and testable."""
