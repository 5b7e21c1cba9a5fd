"""schemathesis against the running service's own OpenAPI schema: no request gets a 5xx.

Every operation gets ``EXAMPLES`` requests that fit its schema and ``EXAMPLES`` that break it
(wrong types, missing fields, out-of-range numbers, odd headers). Each operation that takes a
JSON body then gets ``HOSTILE`` more, each a fitting body made hostile in one of the ways an
attacker or a careless client would (``HOSTILITIES``): sent as a form, as text or with no
Content-Type, with NaN or an infinity in it, with a lone surrogate, or nested far too deep.
The service runs without a worker, so the jobs that valid submissions create stay queued
instead of training.
"""

import contextlib
import json
import os
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase
from hypothesis import strategies as st

from tests.conftest import Backend
from tests.harness import start_service, stop_service

pytestmark = pytest.mark.integration

EXAMPLES = int(os.environ.get("DESCENT_FUZZ_EXAMPLES", "40"))
HOSTILE = max(1, EXAMPLES // 5)
HOSTILITIES = ("form", "text", "no_type", "nan", "infinity", "huge", "surrogate", "deep", "deeper")
HOLE = "\u0000hole"  # where a hostile token goes in the body's JSON text


def leaves(value: Any, path: tuple = ()) -> list[tuple]:
    """The paths of every value in a JSON body (objects and lists included)."""
    found = [path]
    if isinstance(value, dict):
        for key, child in value.items():
            found += leaves(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += leaves(child, (*path, index))
    return found


def with_hole(body: Any, path: tuple) -> Any:
    """``body`` with the value at ``path`` replaced by HOLE (a copy)."""
    if not path:
        return HOLE
    copy = json.loads(json.dumps(body))
    node = copy
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = HOLE
    return copy


def hostile(kwargs: dict[str, Any], kind: str, draw: Any) -> dict[str, Any]:
    """A fitting request (as schemathesis would send it) made hostile in the way ``kind`` says."""
    body = kwargs.pop("json", None)
    headers = {k: v for k, v in kwargs.pop("headers", {}).items() if k.lower() != "content-type"}
    if kind in ("form", "text", "no_type"):
        content = {"form": "application/x-www-form-urlencoded", "text": "text/plain"}
        if kind in content:
            headers["Content-Type"] = content[kind]
        return {**kwargs, "headers": headers, "data": json.dumps(body).encode()}
    tokens = {"nan": "NaN", "infinity": "-Infinity", "huge": "1e400", "surrogate": '"\\ud800"',
              "deep": "[" * 100 + "]" * 100, "deeper": "[" * 3_000 + "]" * 3_000}  # fmt: skip
    place = draw(st.sampled_from(leaves(body)))
    text = json.dumps(with_hole(body, place)).replace(json.dumps(HOLE), tokens[kind])
    headers["Content-Type"] = "application/json"
    return {**kwargs, "headers": headers, "data": text.encode()}


def test_generated_requests_never_get_a_server_error(tmp_path: Path, backend: Backend):
    home = tmp_path / "home"
    service = start_service(home, worker=False, **backend(home))
    server_errors: list[str] = []
    sent = 0
    answered: dict[tuple[str, int], int] = {}  # (hostility, status) -> how many
    try:
        schema = schemathesis.openapi.from_dict(service.client.get("/openapi.json").json())
        for result in schema.get_all_operations():
            operation = result.ok()
            for mode in schemathesis.GenerationMode:

                @hypothesis.settings(
                    max_examples=EXAMPLES,
                    deadline=None,
                    database=None,
                    phases=[Phase.generate],
                    suppress_health_check=list(HealthCheck),
                )
                @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
                def call(case: schemathesis.Case) -> None:
                    nonlocal sent
                    response = case.call(base_url=service.url, timeout=20)
                    sent += 1
                    if response.status_code >= 500:
                        server_errors.append(
                            f"{case.method} {case.formatted_path} -> {response.status_code}: "
                            f"{response.text[:300]}\n{case.as_curl_command()}"
                        )

                # An operation without parameters or body has nothing to break (Unsatisfiable).
                with contextlib.suppress(hypothesis.errors.Unsatisfiable):
                    call()

            if not any(body.media_type == "application/json" for body in operation.body):
                continue

            @hypothesis.settings(
                max_examples=HOSTILE,
                deadline=None,
                database=None,
                phases=[Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @hypothesis.given(
                case=operation.as_strategy(generation_mode=schemathesis.GenerationMode.POSITIVE),
                kind=st.sampled_from(HOSTILITIES),
                data=st.data(),
            )
            def call_hostile(case: schemathesis.Case, kind: str, data: st.DataObject) -> None:
                nonlocal sent
                if case.media_type != "application/json":
                    return
                request = hostile(case.as_transport_kwargs(base_url=service.url), kind, data.draw)
                response = requests.request(**request, timeout=20)
                sent += 1
                answered[kind, response.status_code] = (
                    answered.get((kind, response.status_code), 0) + 1
                )
                if response.status_code >= 500:
                    server_errors.append(
                        f"{kind}: {case.method} {case.formatted_path} -> "
                        f"{response.status_code}: {response.text[:300]}\n"
                        f"{request['data'][:300]!r}"
                    )

            call_hostile()
    finally:
        stop_service(service)
    print(f"schemathesis: {sent} requests, {len(server_errors)} server errors")
    print("hostile requests (kind, status): count", dict(sorted(answered.items())))
    assert sent > 0
    assert server_errors == [], "\n\n".join(server_errors[:10])
