"""Every answer carries a request id: the caller's when it is sane, else a new one."""

import re

from fastapi.testclient import TestClient

NEW_ID = re.compile(r"[0-9a-f]{32}")


def test_a_sane_request_id_is_echoed(client: TestClient):
    response = client.get("/healthz", headers={"X-Request-ID": "test-req-123"})
    assert response.headers["X-Request-ID"] == "test-req-123"


def test_a_request_without_an_id_gets_a_new_one_each_time(client: TestClient):
    first = client.get("/healthz").headers["X-Request-ID"]
    second = client.get("/healthz").headers["X-Request-ID"]
    assert NEW_ID.fullmatch(first) and NEW_ID.fullmatch(second) and first != second


def test_an_id_too_long_or_unprintable_is_replaced(client: TestClient):
    for bad in ("x" * 129, "a\tb"):
        answered = client.get("/healthz", headers={"X-Request-ID": bad}).headers["X-Request-ID"]
        assert NEW_ID.fullmatch(answered), bad


def test_refusals_made_before_any_route_carry_the_id_too(client: TestClient):
    response = client.get("/no/such/page", headers={"X-Request-ID": "lost-123"})
    assert response.status_code == 404
    assert response.headers["X-Request-ID"] == "lost-123"
