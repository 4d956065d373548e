"""Connectors: each source is a YAML description plus one small reader function."""
