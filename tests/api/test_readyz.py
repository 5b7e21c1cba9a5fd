"""Readiness names the part that is down; liveness stays a cheap answer."""

import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from core.settings import Settings
from tests.harness import free_port

PASSWORD = "s3cret-pw"


def unlifted(**settings: str) -> TestClient:
    """The app without its lifespan (no sweep, which would retry a database that is down)."""
    return TestClient(create_app(Settings(**settings)))


def test_ready_when_database_broker_and_store_answer(client: TestClient):
    response = client.get("/readyz")
    assert response.status_code == 200, response.text
    assert response.json() == {
        "status": "ready",
        "checks": {"database": "ok", "broker": "ok", "artifact_store": "ok"},
    }


def test_not_ready_names_an_unreachable_database_and_hides_its_password(home: Path):
    closed = free_port()
    client = unlifted(database_url=f"postgresql+psycopg://x:{PASSWORD}@127.0.0.1:{closed}/x")
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "not_ready"
    assert [error["field"] for error in problem["errors"]] == ["database"]
    assert str(closed) in problem["errors"][0]["message"]  # what the driver said
    assert "database" in problem["detail"] and "broker" not in problem["detail"]
    assert PASSWORD not in response.text


def test_not_ready_names_an_unreachable_broker(home: Path):
    client = unlifted(broker_url=f"redis://:{PASSWORD}@127.0.0.1:{free_port()}/0")
    response = client.get("/readyz")
    assert response.status_code == 503
    assert [error["field"] for error in response.json()["errors"]] == ["broker"]
    assert PASSWORD not in response.text


def test_a_check_that_hangs_is_reported_within_its_time_and_not_started_again(
    home: Path, monkeypatch: pytest.MonkeyPatch
):
    app = create_app(Settings(sweep=False))
    app.state.readiness.seconds = 0.2
    started: list[float] = []

    def hang() -> None:
        started.append(time.monotonic())
        time.sleep(1.5)

    monkeypatch.setattr(app.state.artifacts, "check", hang)
    with TestClient(app) as client:  # one event loop throughout, as under a server
        began = time.monotonic()
        answers = [client.get("/readyz") for _ in range(3)]
        assert time.monotonic() - began < 1.2  # three probes, each answered in its 0.2 s
    assert len(started) == 1  # the later probes waited on the check under way
    for response in answers:
        assert response.status_code == 503
        [error] = response.json()["errors"]
        assert error["field"] == "artifact_store"
        assert "no answer within 0.2 s" in error["message"]


def test_liveness_does_not_ask_the_broker_or_the_store(home: Path):
    client = unlifted(broker_url=f"redis://127.0.0.1:{free_port()}/0")
    assert client.get("/healthz").status_code == 200


def test_not_ready_names_a_missing_bucket_until_it_exists(home: Path, s3_endpoint: str):
    import boto3

    s3 = {"endpoint_url": s3_endpoint, "region_name": "us-east-1"}
    keys = {"aws_access_key_id": "test", "aws_secret_access_key": PASSWORD}
    client = unlifted(
        artifact_store="s3",
        s3_bucket="not-made-yet",
        s3_endpoint_url=s3_endpoint,
        s3_region="us-east-1",
        s3_access_key_id="test",
        s3_secret_access_key=PASSWORD,
    )
    response = client.get("/readyz")
    assert response.status_code == 503
    assert [error["field"] for error in response.json()["errors"]] == ["artifact_store"]
    assert PASSWORD not in response.text
    boto3.client("s3", **s3, **keys).create_bucket(Bucket="not-made-yet")
    assert client.get("/readyz").status_code == 200
