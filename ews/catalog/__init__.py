"""What is critical: items keyed by HS code, their families, countries, all in five languages."""

from ews.catalog.catalog import Catalog, load_catalog

__all__ = ["Catalog", "load_catalog"]
