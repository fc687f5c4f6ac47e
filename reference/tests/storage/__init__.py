"""Storage contract tests, run against every backend; Redis and multi-process tests."""
