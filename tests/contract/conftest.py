"""The API contract as other people's clients see it: the live service with auth required, its
``/openapi.json``, and the schema walks the contract tests share.

Each test module starts its own service (one per module, so a module runs alone as fast as in
the suite), with ``DESCENT_AUTH=required`` so that the 401 path is real, and a small cap on
instances per prediction so that the 413 path costs eight digits, not ten thousand.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from models.db import session_scope
from services import api_keys
from tests.conftest import Backend, Service, missing, start_service, stop_service

MAX_INSTANCES = 8  # DESCENT_MAX_INSTANCES_PER_REQUEST for these services

# A response may carry a value of any JSON shape only where the shape is not the server's to
# know: it is whatever a client sent, or the value of a spec field that differs per field.
UNTYPED_ALLOWED = {
    "ProblemItem.found": "the refused value, as the client sent it",
    "ProblemItem.allowed": "a range, a list or a pattern, per field refused",
    "LayerField.default": "a layer field's default: a number, a word or a list, per field",
    "LayerField.example": "the same, an example value",
    "BatchJob.varied": "spec values by dotted path (`optimizer.name`: any spec field's value)",
    "Standing.varied": "the same, on the leaderboard",
    "Trial.params": "a search trial's spec values by dotted path (any spec field's value)",
    "Best.params": "the same, for the search's best trial",
    "SearchPublic.space": "ranges by dotted path; a choice lists any spec field's values",
}


@dataclass
class Secured:
    """A running service that requires a key, and one key for it (owner "contract")."""

    service: Service
    key: str

    @property
    def url(self) -> str:
        return self.service.url

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


def start_secured(home: Path, backend: Backend, *, worker: bool) -> Secured:
    service = start_service(
        home,
        worker=worker,
        DESCENT_AUTH="required",
        DESCENT_MAX_INSTANCES_PER_REQUEST=str(MAX_INSTANCES),
        **backend(home),
    )
    with session_scope(service.settings.resolved_database_url) as session:
        _, secret = api_keys.create(session, "contract")
    return Secured(service, secret)


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory, backend: Backend) -> Iterator[Secured]:
    """The service (API + one worker) for this module, auth required."""
    running = start_secured(tmp_path_factory.mktemp("contract"), backend, worker=True)
    yield running
    stop_service(running.service)


@pytest.fixture(scope="session")
def secured_api(tmp_path_factory: pytest.TempPathFactory, backend: Backend) -> Iterator[Secured]:
    """The API alone (jobs stay queued), auth required: one for every module that only reads
    the schema or checks refusals."""
    running = start_secured(tmp_path_factory.mktemp("contract-api"), backend, worker=False)
    yield running
    stop_service(running.service)


def live_schema(secured: Secured) -> dict[str, Any]:
    """``/openapi.json`` as any client fetches it: without a key."""
    response = secured.service.client.get("/openapi.json")
    assert response.status_code == 200, response.text
    return response.json()


def tool(name: str, *, reason: str) -> str:
    """The path of an outside program a test needs; without it, skip, or fail where
    DESCENT_TEST_REQUIRE_SERVICES=1 (CI) says every test must run."""
    path = shutil.which(name)
    if path is None:
        missing(f"{name} is not on PATH: {reason}")
    return path


# --- Walking the schema ---------------------------------------------------------------------


def operations(schema: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(method, path, operation) for every operation."""
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method in {"get", "put", "post", "delete", "patch", "head", "options", "trace"}:
                yield method.upper(), path, operation


def error_statuses(schema: dict[str, Any]) -> set[int]:
    """Every 4xx and 5xx status some operation documents."""
    return {
        int(status)
        for _, _, operation in operations(schema)
        for status in operation.get("responses", {})
        if status[0] in "45"
    }


def resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        name = node["$ref"].removeprefix("#/components/schemas/")
        node = schema["components"]["schemas"][name]
    return node


def untyped(node: Any) -> bool:
    """A schema that says nothing of its value's shape: ``{}`` or only words, or an object of
    any keys and values (``dict[str, Any]``, TypeScript's ``Record<string, unknown>``)."""
    if not isinstance(node, dict):
        return False
    if node.get("type") == "object" and not node.get("properties"):
        return node.get("additionalProperties", True) in (True, {})
    shaping = {"type", "$ref", "anyOf", "oneOf", "allOf", "enum", "const", "not"}
    return not shaping & node.keys()


def untyped_fields(schema: dict[str, Any]) -> set[str]:
    """``Schema.field`` (``[]`` for an item, ``{}`` for a map's value) for every property of a
    schema reachable from a response whose value may be any JSON at all."""
    found: set[str] = set()
    seen: set[str] = set()

    def walk(node: Any, where: str) -> None:
        if not isinstance(node, dict):
            return
        if "$ref" in node:
            name = node["$ref"].removeprefix("#/components/schemas/")
            if name not in seen:
                seen.add(name)
                walk(schema["components"]["schemas"][name], name)
            return
        for key in ("anyOf", "oneOf", "allOf"):
            for option in node.get(key, []):
                walk(option, where)
        for name, prop in node.get("properties", {}).items():
            if untyped(prop):
                found.add(f"{where}.{name}")
            walk(prop, f"{where}.{name}")
        if "items" in node:
            if untyped(node["items"]):
                found.add(f"{where}[]")
            walk(node["items"], f"{where}[]")
        extra = node.get("additionalProperties")
        if isinstance(extra, dict):
            if untyped(extra):
                found.add(f"{where}{{}}")
            walk(extra, f"{where}{{}}")

    for method, path, operation in operations(schema):
        for status, response in operation.get("responses", {}).items():
            for media_type, content in response.get("content", {}).items():
                body = content.get("schema")
                where = f"{method} {path} {status} {media_type}"
                if body is None or untyped(body):
                    if not media_type.startswith(("text/", "application/octet-stream")):
                        found.add(where)
                    continue
                walk(body, where)
    return found
