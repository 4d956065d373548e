"""The API tests' assessed sample store, shared with the weekly brief's tests."""

from tests.api.conftest import api  # noqa: F401 - the package-scoped store fixture
