"""The API against its own OpenAPI document (schemathesis): no 500s, answers match the schema.

Every operation gets generated query strings and paths, with an admin key (it sees
everything, RED included) and without one.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import (
    negative_data_rejection,
    positive_data_acceptance,
)

from ews.api.app import create_app
from tests.api.conftest import Api


@pytest.fixture(scope="module")
def api_schema(api: Api) -> Any:
    return schemathesis.openapi.from_asgi("/openapi.json", create_app(api.settings))


def _operations(api_schema: Any) -> list[Any]:
    ops = [result.ok() for result in api_schema.get_all_operations()]
    assert len(ops) >= 6, "the API lost operations"
    return ops


def test_api_conforms_to_its_schema(api_schema: Any, api: Api) -> None:
    # Positive/negative data checks judge our query validation by the schema's letter (e.g.
    # an unknown country name is a 422 by design); the rest (no 5xx, status codes, content
    # types and bodies as documented) all run.
    for operation in _operations(api_schema):

        @given(case=operation.as_strategy())
        @settings(
            max_examples=10,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def check(case: Any) -> None:
            case.call_and_validate(
                headers=api.auth("admin"),
                excluded_checks=[positive_data_acceptance, negative_data_rejection],
            )

        check()


REFUSED = ("missing API key", "unknown or revoked API key")


def _values(case: Any, where: str) -> list[str]:
    """The generated values of one part of a request (``path_parameters`` or ``query``)."""
    out: list[str] = []
    for value in (getattr(case, where) or {}).values():
        out += [str(v) for v in value] if isinstance(value, list) else [str(value)]
    return out


def test_api_without_a_key_is_401_everywhere(api_schema: Any) -> None:
    for operation in _operations(api_schema):

        @given(case=operation.as_strategy())
        @settings(
            max_examples=2, deadline=None, suppress_health_check=list(HealthCheck), database=None
        )
        def check(case: Any) -> None:
            response = case.call()
            where = (case.path, response.status_code, response.text)
            values = _values(case, "path_parameters") + _values(case, "query")
            if any("\x00" in v for v in values):
                # Refused before routing, whoever asks (RefuseNul): no route is reached.
                assert response.status_code == 422, where
                assert response.json() == {"detail": "NUL characters are not accepted"}, where
            elif any("/" in v for v in _values(case, "path_parameters")):
                # A path parameter holding a slash leaves the route's path: the router's own
                # 404, which says nothing about what the store holds.
                assert response.status_code == 404, where
                assert response.json() == {"detail": "Not Found"}, where
            else:
                # No key, or a generated header that is no key of this node.
                assert response.status_code == 401, where
                assert response.json()["detail"] in REFUSED, where
                assert response.headers["www-authenticate"] == ["Bearer"], where

        check()
