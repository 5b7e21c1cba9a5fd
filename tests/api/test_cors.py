"""DESCENT_CORS_ORIGINS: named origins may call the API from a page; others get no CORS header.

The browser side (a page on another origin that trains, follows and predicts) is
tests/web/test_cross_origin.py; these check the headers the browser decides by.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from core.settings import Settings
from tests.api.conftest import MNIST_SPEC, make_key

FRONT_END = "http://localhost:5173"
STRANGER = "https://evil.example"


@pytest.fixture
def cross_origin(home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("DESCENT_AUTH", "required")
    monkeypatch.setenv("DESCENT_CORS_ORIGINS", f"{FRONT_END}, https://other.example")
    with TestClient(create_app(Settings())) as test_client:
        yield test_client


def preflight(client: TestClient, origin: str, method: str, headers: str):
    return client.options(
        "/v1/jobs",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": headers,
        },
    )


def test_origins_are_read_as_a_comma_separated_list(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("DESCENT_CORS_ORIGINS", " https://A.example ,http://localhost:5173,")
    assert Settings().cors_origins == ["https://a.example", "http://localhost:5173"]


def test_an_origin_with_a_path_is_refused_with_the_form_to_write():
    with pytest.raises(ValueError, match="scheme://host"):
        Settings(cors_origins="https://app.example/")


def test_by_default_no_cors_header_is_sent(client: TestClient):
    answer = client.get("/v1/jobs", headers={"Origin": FRONT_END})
    assert not [name for name in answer.headers if name.startswith("access-control-")]


def test_a_preflight_for_a_named_origin_needs_no_key(cross_origin: TestClient):
    answer = preflight(
        cross_origin, FRONT_END, "POST", "authorization, content-type, idempotency-key"
    )
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == FRONT_END
    allowed = answer.headers["access-control-allow-headers"].lower()
    for header in ("authorization", "content-type", "idempotency-key", "last-event-id"):
        assert header in allowed


def test_a_named_origin_reads_answers_and_their_headers(cross_origin: TestClient):
    headers = make_key("front-end") | {"Origin": FRONT_END}
    created = cross_origin.post("/v1/jobs", json=MNIST_SPEC, headers=headers)
    assert created.status_code == 202
    assert created.headers["access-control-allow-origin"] == FRONT_END
    exposed = created.headers["access-control-expose-headers"].lower()
    for header in ("location", "etag", "idempotent-replayed", "allow"):
        assert header in exposed


def test_a_refusal_reaches_the_named_origin_too(cross_origin: TestClient):
    # Without the header the page could not read the 401's problem and ask for a key.
    answer = cross_origin.get("/v1/jobs", headers={"Origin": FRONT_END})
    assert answer.status_code == 401
    assert answer.headers["access-control-allow-origin"] == FRONT_END


def test_another_origin_gets_no_allow_origin(cross_origin: TestClient):
    assert (
        "access-control-allow-origin"
        not in preflight(cross_origin, STRANGER, "POST", "authorization").headers
    )
    answer = cross_origin.get("/v1/jobs", headers=make_key("x") | {"Origin": STRANGER})
    assert "access-control-allow-origin" not in answer.headers
