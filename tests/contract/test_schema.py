"""The running service's ``/openapi.json`` is a valid OpenAPI document, every error it documents
is the one ``Problem``, and no response field whose shape the server knows is left untyped."""

from __future__ import annotations

from typing import Any

import pytest
from openapi_spec_validator import validate

from tests.contract.conftest import (
    UNTYPED_ALLOWED,
    Secured,
    live_schema,
    operations,
    untyped_fields,
)

pytestmark = pytest.mark.integration

PROBLEM = {"$ref": "#/components/schemas/Problem"}


@pytest.fixture(scope="module")
def schema(secured_api: Secured) -> dict[str, Any]:
    return live_schema(secured_api)


def is_problem(response: dict[str, Any]) -> bool:
    content = response.get("content", {})
    return content.keys() == {"application/problem+json"} and (
        content["application/problem+json"].get("schema") == PROBLEM
    )


def test_the_live_schema_is_valid_openapi(schema: dict[str, Any]):
    validate(schema)


def test_every_error_response_is_a_problem(schema: dict[str, Any]):
    wrong = [
        f"{method} {path} {status}: {response.get('content')}"
        for method, path, operation in operations(schema)
        for status, response in operation["responses"].items()
        if status[0] in "45" and not is_problem(response)
    ]
    assert wrong == []


def test_no_response_field_is_untyped_unless_the_server_cannot_know_its_shape(
    schema: dict[str, Any],
):
    assert untyped_fields(schema) - UNTYPED_ALLOWED.keys() == set()
