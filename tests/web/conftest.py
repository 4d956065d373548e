"""The API's test store (bundled sample data assessed, a RED alert, keys of each kind)."""

from tests.api.conftest import Api, api, client  # noqa: F401 - fixtures shared with the API tests

__all__ = ["Api"]
