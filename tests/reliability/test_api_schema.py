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


def test_api_without_a_key_is_401_everywhere(api_schema: Any) -> None:
    for operation in _operations(api_schema):

        @given(case=operation.as_strategy())
        @settings(
            max_examples=2, deadline=None, suppress_health_check=list(HealthCheck), database=None
        )
        def check(case: Any) -> None:
            response = case.call()
            assert response.status_code in (401, 404), (case.path, response.status_code)

        check()
