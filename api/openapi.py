"""The OpenAPI document as the server behaves: every error response, the API key, the headers.

FastAPI documents what the routes declare; this adds what the app does around them. Every
operation's error responses are ``application/problem+json`` with the one ``Problem`` schema
(api/schemas/problems.py) and name the codes each may carry; FastAPI's ``HTTPValidationError``
is removed, since no body of that shape is ever sent. The API key is a bearer
``securityScheme`` on every /v1 operation, and the headers the API sets (``Location``,
``Idempotent-Replayed``, ``Allow``, ``WWW-Authenticate``) are documented where they are sent.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI

from api.errors import BODY_CODES, PROBLEM_JSON
from api.problem_types import PROBLEM_TYPES, type_uri
from api.schemas.problems import Problem

SECURITY_SCHEME = "bearerAuth"
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
EXAMPLE_ID = "3f2c9a7e5b1d4c8e9f0a1b2c3d4e5f60"

TAGS = [
    {"name": "jobs", "description": "Submit a training job, follow it, read its history, stop it."},
    {"name": "batches", "description": "Many jobs at once: a list of specs, or a sweep."},
    {"name": "searches", "description": "Sampled trials over a space, the losers stopped early."},
    {"name": "models", "description": "Trained models: describe, download, predict, weights."},
    {"name": "datasets", "description": "The built-in data sets and your uploads."},
    {"name": "registry", "description": "Model names, their versions and movable aliases."},
    {"name": "lr-find", "description": "Learning-rate range tests: the loss as the rate grows."},
    {"name": "layers", "description": "The layer kinds a spec may use, with their fields."},
    {"name": "health", "description": "Whether the API and its database are up."},
]

# Errors particular to an operation (by operationId), beyond those every operation of its kind
# may answer (see _codes): status -> the codes it carries.
OPERATION_ERRORS: dict[str, dict[int, tuple[str, ...]]] = {
    "submit_job": {409: ("idempotency_key_in_use",), 422: ("idempotency_key_reused",)},
    "cancel_job": {409: ("job_finished",)},
    "find_learning_rate": {422: ("request_invalid",)},
    "get_evaluation": {404: ("evaluation_not_found",)},
    "get_misclassified_image": {404: ("evaluation_not_found", "not_found", "artifact_not_found")},
    "get_model": {409: ("model_not_ready", "model_not_trained", "model_name_ambiguous")},
    "download_model": {
        409: ("model_not_ready", "model_not_trained", "model_name_ambiguous"),
        410: ("model_gone",),
    },
    "get_weights": {
        404: ("weights_not_found",),
        409: ("model_not_ready", "model_not_trained", "weights_too_large", "model_name_ambiguous"),
    },
    "predict": {
        409: ("model_not_ready", "model_not_trained", "model_incompatible", "model_name_ambiguous"),
        410: ("model_gone",),
        413: ("payload_too_large",),
        415: ("unsupported_media_type",),
        422: ("input_invalid",),
    },
    "submit_batch": {
        409: ("idempotency_key_in_use",),
        422: ("batch_too_large", "idempotency_key_reused"),
    },
    "upload_dataset": {
        409: ("dataset_exists", "idempotency_key_in_use"),
        413: ("payload_too_large",),
        415: ("unsupported_media_type",),
        422: ("dataset_invalid", "idempotency_key_reused"),
    },
    "delete_dataset": {405: ("dataset_builtin",), 409: ("dataset_in_use", "dataset_ambiguous")},
    "get_dataset": {409: ("dataset_ambiguous",)},
    "readyz": {503: ("not_ready",)},
    "stream_events": {429: ("too_many_requests",)},  # DESCENT_MAX_STREAMS_PER_OWNER
    # The model registry (api/routes/registry.py); a name's 404 is model_not_found (NOT_FOUND),
    # and a name several owners have is ambiguous to an admin key.
    "register_model_version": {
        409: ("model_not_ready", "model_not_trained", "model_name_ambiguous")
    },
    "get_registered_model": {409: ("model_name_ambiguous",)},
    # Searches (api/routes/searches.py).
    "submit_search": {
        409: ("idempotency_key_in_use",),
        422: ("search_space_invalid", "spec_invalid", "batch_too_large", "idempotency_key_reused"),
    },
    "cancel_search": {409: ("search_finished",)},
    "resume_trial": {404: ("trial_not_found",), 409: ("trial_not_resumable",)},
    "list_model_versions": {409: ("model_name_ambiguous",)},
    "get_model_version": {404: ("version_not_found",), 409: ("model_name_ambiguous",)},
    "set_alias": {404: ("version_not_found",), 409: ("model_name_ambiguous",)},
    "delete_alias": {404: ("alias_not_found",), 409: ("model_name_ambiguous",)},
}
# The thing a /v1 path's parameter names, by the path's first segment.
NOT_FOUND = {
    "jobs": "job_not_found",
    "models": "model_not_found",
    "batches": "batch_not_found",
    "datasets": "dataset_not_found",
    "registry": "model_not_found",
    "searches": "search_not_found",
    "lr-find": "job_not_found",
}
DESCRIPTIONS = {
    401: "The server requires an API key and none, or an unknown or revoked one, was sent.",
    404: "No such thing (of yours).",
    405: "The thing cannot take this method; `Allow` lists the ones it takes.",
    409: "The request conflicts with the state of what it names.",
    410: "What it names was there and is gone.",
    413: "The request is larger than this route accepts.",
    415: "The body's Content-Type is not one this route reads.",
    422: "The request cannot be taken as sent; `errors` names each bad field with a fix.",
    500: "An unexpected error; it has been logged.",
}
ERROR_HEADERS = {
    401: {
        "WWW-Authenticate": {
            "description": "`Bearer`: send the API key as `Authorization: Bearer <key>`.",
            "schema": {"type": "string"},
        }
    },
    405: {
        "Allow": {
            "description": "The methods the path takes, e.g. `GET`.",
            "schema": {"type": "string"},
        }
    },
}
LOCATION = {
    "description": "The path of what was created, to follow it.",
    "schema": {"type": "string"},
    "example": f"/v1/jobs/{EXAMPLE_ID}",
}
REPLAYED = {
    "description": "`true` when this is the stored answer to an earlier request with the same "
    "Idempotency-Key (nothing new was created).",
    "schema": {"type": "string", "enum": ["true"]},
}
# Operations that create something and say where it is (their 2xx answers carry Location).
LOCATIONS = {
    "submit_job", "submit_batch", "upload_dataset", "register_model_version", "submit_search"
}  # fmt: skip


def install(app: FastAPI, *editors: Callable[[dict[str, Any]], None]) -> None:
    """Make ``app.openapi`` answer the document described above, built once and then kept:
    FastAPI's own, then each of ``editors`` in turn (what other modules know of the routes they
    serve), then the errors, the key and the headers, which document what the editors added."""
    app.openapi_tags = TAGS
    build = app.openapi
    improved: list[dict[str, Any]] = []

    def openapi() -> dict[str, Any]:
        schema = build()
        if not improved or improved[0] is not schema:
            for edit in editors:
                edit(schema)
            describe(schema, auth_required=app.state.settings.auth == "required")
            improved[:] = [schema]
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def describe(schema: dict[str, Any], *, auth_required: bool) -> None:
    """Add the error responses, the security scheme and the headers to ``schema``, in place."""
    schemas = schema.setdefault("components", {}).setdefault("schemas", {})
    problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(problem.pop("$defs", {}))
    schemas["Problem"] = problem
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    schema["components"]["securitySchemes"] = {
        SECURITY_SCHEME: {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key (`descent keys create`), sent as "
            "`Authorization: Bearer <key>`. Needed when the server runs with "
            "DESCENT_AUTH=required (GET /healthz says).",
        }
    }
    # With auth off a request without a key is fine too: the empty requirement says so.
    security: list[dict[str, list[str]]] = [{SECURITY_SCHEME: []}]
    if not auth_required:
        security.append({})
    for path, _, operation in operations(schema):
        if path.startswith("/v1/"):
            operation["security"] = security
        _document_errors(path, operation)
        _document_headers(operation)


def operations(schema: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in schema.get("paths", {}).items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def _codes(path: str, operation: dict[str, Any]) -> dict[int, list[str]]:
    """The error statuses ``operation`` may answer, each with the codes it may carry."""
    name = operation.get("operationId", "")
    parameters = operation.get("parameters", [])
    codes: dict[int, list[str]] = {}

    def add(status: int, *names: str) -> None:
        listed = codes.setdefault(status, [])
        listed.extend(code for code in names if code not in listed)

    if path.startswith("/v1/"):
        add(401, "unauthorized")
    if any(p.get("in") == "path" for p in parameters):
        segment = path.split("/")[2] if path.startswith("/v1/") else ""
        add(404, NOT_FOUND.get(segment, "not_found"))
    # Every route refuses a query parameter it does not take (api/deps.reject_unknown_query).
    add(422, "query_invalid")
    if any(p.get("in") in ("path", "header") for p in parameters):
        add(422, "request_invalid")
    if "requestBody" in operation:
        add(422, BODY_CODES.get(name, "request_invalid"))
        add(413, "payload_too_large")  # api/limits.py caps every body
        add(415, "unsupported_media_type")  # a JSON body sent as another type (api/errors.py)
    for status, named in OPERATION_ERRORS.get(name, {}).items():
        add(status, *named)
    # Errors a route declares itself (its own responses=) keep their place.
    for status in operation.get("responses", {}):
        if status.isdigit() and int(status) >= 400:
            add(int(status))
    add(500, "internal_error")
    return codes


def _document_errors(path: str, operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    for status, codes in _codes(path, operation).items():
        response = responses.setdefault(str(status), {})
        own = response.get("description")
        if not own or own == "Validation Error":  # FastAPI's words for its own 422 body
            own = DESCRIPTIONS.get(status, "An error.")
        listed = ", ".join(f"`{code}`" for code in codes)
        response["description"] = f"{own} Codes: {listed}." if codes else own
        response["content"] = {
            PROBLEM_JSON: {
                "schema": PROBLEM_REF,
                "examples": {code: _example(code, status, path) for code in codes},
            }
        }
        if status in ERROR_HEADERS:
            response["headers"] = {**response.get("headers", {}), **ERROR_HEADERS[status]}
        if not response["content"][PROBLEM_JSON]["examples"]:
            del response["content"][PROBLEM_JSON]["examples"]
    operation["responses"] = dict(sorted(responses.items()))


def _example(code: str, status: int, path: str) -> dict[str, Any]:
    kind = PROBLEM_TYPES[code]
    return {
        "summary": kind.title,
        "value": {
            "type": type_uri(code),
            "title": kind.title,
            "status": status,
            "detail": kind.meaning,
            "instance": re.sub(r"\{[^}]+\}", EXAMPLE_ID, path),
            "code": code,
            "fix": kind.fix,
        },
    }


def _document_headers(operation: dict[str, Any]) -> None:
    name = operation.get("operationId")
    idempotent = any(p.get("name") == "Idempotency-Key" for p in operation.get("parameters", []))
    for status, response in operation.get("responses", {}).items():
        if not status.startswith("2"):
            continue
        headers = response.setdefault("headers", {})
        if name in LOCATIONS and status in ("201", "202"):
            headers["Location"] = LOCATION
        if idempotent:
            headers["Idempotent-Replayed"] = REPLAYED
        if not headers:
            del response["headers"]
