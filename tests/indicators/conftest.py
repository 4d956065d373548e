"""Fixtures of the indicators tests (the Spark session is shared: tests/conftest.py)."""
