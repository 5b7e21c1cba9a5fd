"""The OpenAPI document tells the truth a generated client relies on: it is valid, every error
is the one Problem schema, operations have their functions' names, the key is a security
scheme and the headers the API sends are documented."""

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openapi_spec_validator import validate

from api.openapi import OPERATION_ERRORS, operations
from api.problem_types import PROBLEM_TYPES

PROBLEM_REF = "#/components/schemas/Problem"
OPERATION_IDS = {
    "submit_job", "get_job", "list_jobs", "get_history", "cancel_job", "predict",
    "list_models", "get_model", "download_model", "list_batches", "submit_batch", "get_batch",
    "list_batch_jobs", "cancel_batch", "list_datasets", "get_dataset", "upload_dataset",
    "delete_dataset", "validate_spec", "stream_events", "get_weights", "list_layer_kinds",
    "list_statuses", "healthz", "readyz",
    "list_registered_models", "get_registered_model", "register_model_version",
    "list_model_versions", "get_model_version", "set_alias", "delete_alias",
    "submit_search", "list_searches", "get_search", "get_search_leaderboard", "cancel_search",
    "resume_trial", "stream_search_events", "find_learning_rate", "get_lr_find",
    "get_evaluation", "get_misclassified_image",
}  # fmt: skip


@pytest.fixture
def schema(client: TestClient) -> dict[str, Any]:
    return client.get("/openapi.json").json()


def by_id(schema: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {operation["operationId"]: operation for _, _, operation in operations(schema)}


def test_the_schema_is_valid_openapi(schema: dict[str, Any]):
    validate(schema)


def test_operation_ids_are_the_route_functions_names(schema: dict[str, Any]):
    ids = [operation["operationId"] for _, _, operation in operations(schema)]
    assert len(ids) == len(set(ids))
    assert set(ids) == OPERATION_IDS
    assert set(OPERATION_ERRORS) <= OPERATION_IDS


def test_every_error_response_is_a_problem(schema: dict[str, Any]):
    for path, method, operation in operations(schema):
        where = f"{method.upper()} {path}"
        responses = operation["responses"]
        expected = {"422", "500"}
        if path.startswith("/v1/"):
            expected.add("401")
        if any(p["in"] == "path" for p in operation.get("parameters", [])):
            expected.add("404")
        assert expected <= set(responses), where
        for status, response in responses.items():
            if int(status) < 400:
                continue
            assert list(response["content"]) == ["application/problem+json"], where
            media = response["content"]["application/problem+json"]
            assert media["schema"] == {"$ref": PROBLEM_REF}, (where, status)
            for code, example in media["examples"].items():
                assert PROBLEM_TYPES[code].status == int(status), (where, code)
                assert example["value"]["code"] == code
                assert f"`{code}`" in response["description"]


def test_the_route_specific_errors_are_documented(schema: dict[str, Any]):
    operations_ = by_id(schema)

    def codes(name: str, status: int) -> set[str]:
        media = operations_[name]["responses"][str(status)]["content"]["application/problem+json"]
        return set(media["examples"])

    assert codes("get_job", 404) == {"job_not_found"}
    assert codes("cancel_job", 409) == {"job_finished"}
    assert "spec_invalid" in codes("submit_job", 422)
    assert "spec_invalid" in codes("submit_batch", 422)
    assert {"model_not_ready", "model_gone", "payload_too_large", "unsupported_media_type"} <= (
        codes("predict", 409) | codes("predict", 410) | codes("predict", 413)
        | codes("predict", 415)
    )  # fmt: skip
    assert "input_invalid" in codes("predict", 422)
    assert codes("delete_dataset", 405) == {"dataset_builtin"}


def test_no_validation_error_schema_of_another_shape_is_left(schema: dict[str, Any]):
    text = json.dumps(schema)
    assert "HTTPValidationError" not in text
    assert "#/components/schemas/ValidationError" not in text
    assert {"Problem", "ProblemItem"} <= set(schema["components"]["schemas"])
    problem = schema["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "detail", "instance", "code"}


def test_the_api_key_is_a_bearer_scheme_on_every_v1_operation(schema: dict[str, Any]):
    scheme = schema["components"]["securitySchemes"]["bearerAuth"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    for path, _, operation in operations(schema):
        if path.startswith("/v1/"):
            # Auth is off on this server: a request without a key is allowed too.
            assert operation["security"] == [{"bearerAuth": []}, {}], path
        else:
            assert "security" not in operation, path


def test_with_auth_required_the_key_is_required(secured: TestClient):
    schema = secured.get("/openapi.json").json()
    assert by_id(schema)["get_job"]["security"] == [{"bearerAuth": []}]


def test_the_headers_the_api_sends_are_documented(schema: dict[str, Any]):
    operations_ = by_id(schema)

    def headers(name: str, status: int) -> set[str]:
        return set(operations_[name]["responses"][str(status)].get("headers", {}))

    for name in ("submit_job", "submit_batch"):
        assert {"Location", "Idempotent-Replayed"} <= headers(name, 202), name
    assert "Location" in headers("upload_dataset", 201)
    for name in ("get_job", "get_history", "get_model"):
        assert "ETag" in headers(name, 200), name
    assert "Allow" in headers("delete_dataset", 405)
    for name, operation in operations_.items():
        if "401" in operation["responses"]:
            assert "WWW-Authenticate" in headers(name, 401), name


def test_every_tag_is_described(schema: dict[str, Any]):
    described = {tag["name"]: tag.get("description") for tag in schema["tags"]}
    for _, _, operation in operations(schema):
        for tag in operation["tags"]:
            assert described.get(tag), tag
