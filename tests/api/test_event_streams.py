"""Event streams that an outsider cannot turn against the API: a bounded Last-Event-ID, a cap
on one owner's open streams, streams that end when their key is revoked, and one database
poll per interval for all open streams rather than one per stream."""

import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from api.app import create_app
from core.settings import Settings
from models.db import get_engine, session_scope
from services import api_keys
from tests.api.conftest import MNIST_SPEC, make_key
from tests.sse import parse


@pytest.fixture
def limited(home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("DESCENT_AUTH", "required")
    monkeypatch.setenv("DESCENT_MAX_STREAMS_PER_OWNER", "2")
    with TestClient(create_app(Settings())) as test_client:
        yield test_client


def test_a_last_event_id_past_64_bits_is_a_422_that_says_so(client: TestClient):
    job_id = client.post("/v1/jobs", json=MNIST_SPEC).json()["id"]
    response = client.get(f"/v1/jobs/{job_id}/events", headers={"Last-Event-ID": str(2**63)})
    assert response.status_code == 422
    assert "9223372036854775807" in response.text


def test_one_owner_past_the_stream_limit_gets_a_429_and_others_do_not(limited: TestClient):
    alice, bob = make_key("alice"), make_key("bob")
    job_a = limited.post("/v1/jobs", json=MNIST_SPEC, headers=alice).json()["id"]
    job_b = limited.post("/v1/jobs", json=MNIST_SPEC, headers=bob).json()["id"]
    with ExitStack() as held:
        for _ in range(2):
            stream = held.enter_context(
                limited.stream("GET", f"/v1/jobs/{job_a}/events", headers=alice)
            )
            assert stream.status_code == 200
        refused = limited.get(f"/v1/jobs/{job_a}/events", headers=alice)
        assert refused.status_code == 429
        problem = refused.json()
        assert problem["code"] == "too_many_requests"
        assert "DESCENT_MAX_STREAMS_PER_OWNER" in problem["detail"]
        assert int(refused.headers["retry-after"]) > 0
        with limited.stream("GET", f"/v1/jobs/{job_b}/events", headers=bob) as other:
            assert other.status_code == 200  # the limit is per owner
    # Closed streams give their places back.
    with limited.stream("GET", f"/v1/jobs/{job_a}/events", headers=alice) as again:
        assert again.status_code == 200


def test_a_revoked_keys_open_stream_ends(secured: TestClient, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr("api.streams.KEY_CHECK_SECONDS", 0.3)  # 5 s in production
    headers = make_key("temp")
    job_id = secured.post("/v1/jobs", json=MNIST_SPEC, headers=headers).json()["id"]

    def revoke_soon() -> None:
        time.sleep(0.5)
        with session_scope(Settings().resolved_database_url) as session:
            api_keys.revoke(session, api_keys.list_all(session)[-1].id)

    revoker = threading.Thread(target=revoke_soon)
    started = time.monotonic()
    with secured.stream("GET", f"/v1/jobs/{job_id}/events", headers=headers) as response:
        assert response.status_code == 200
        revoker.start()
        received = list(parse(response.iter_lines()))  # returns once the stream ends
    revoker.join()
    assert [e.data["status"] for e in received] == ["queued"]
    assert time.monotonic() - started < 5
    assert secured.get(f"/v1/jobs/{job_id}/events", headers=headers).status_code == 401


def test_idle_streams_cost_one_query_per_interval_not_one_per_stream(client: TestClient):
    ids = [client.post("/v1/jobs", json=MNIST_SPEC).json()["id"] for _ in range(10)]
    statements: list[str] = []
    engine = get_engine(Settings().resolved_database_url)

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    with ExitStack() as held:
        for job_id in ids:
            held.enter_context(client.stream("GET", f"/v1/jobs/{job_id}/events"))
        time.sleep(0.3)  # every stream has had its first events
        event.listen(engine, "before_cursor_execute", count)
        try:
            time.sleep(1.0)  # five intervals of 0.2 s
        finally:
            event.remove(engine, "before_cursor_execute", count)
    # Five intervals; a loaded machine may let one more or a late first read in. Ten streams
    # polling alone would make ~50.
    assert 1 <= len(statements) <= 15, statements
