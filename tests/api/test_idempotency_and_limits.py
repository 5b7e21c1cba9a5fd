"""Retried submissions create nothing new; oversized bodies are refused on every route."""

from fastapi.testclient import TestClient

from tests.api.conftest import MNIST_SPEC


def test_a_retried_job_submission_gets_the_first_answer_and_creates_nothing(client: TestClient):
    headers = {"Idempotency-Key": "retry-me-1"}
    first = client.post("/v1/jobs", json=MNIST_SPEC, headers=headers)
    again = client.post("/v1/jobs", json=MNIST_SPEC, headers=headers)
    assert first.status_code == again.status_code == 202
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["idempotent-replayed"] == "true"
    assert client.get("/v1/jobs").json()["total"] == 1


def test_a_key_reused_with_another_body_is_refused(client: TestClient):
    headers = {"Idempotency-Key": "one-request"}
    client.post("/v1/jobs", json=MNIST_SPEC, headers=headers)
    other = client.post("/v1/jobs", json={**MNIST_SPEC, "epochs": 2}, headers=headers)
    assert other.status_code == 422
    assert "already used on POST /v1/jobs as local with a different body" in other.json()["detail"]


def test_without_a_key_every_submission_is_a_new_job(client: TestClient):
    client.post("/v1/jobs", json=MNIST_SPEC)
    client.post("/v1/jobs", json=MNIST_SPEC)
    assert client.get("/v1/jobs").json()["total"] == 2


def test_a_retried_batch_submission_gets_the_first_answer(client: TestClient):
    body = {"specs": [MNIST_SPEC, {**MNIST_SPEC, "epochs": 2}], "max_parallel": 1}
    headers = {"Idempotency-Key": "batch-1"}
    first = client.post("/v1/batches", json=body, headers=headers)
    again = client.post("/v1/batches", json=body, headers=headers)
    assert first.status_code == again.status_code == 202
    assert again.json()["id"] == first.json()["id"]
    assert client.get("/v1/jobs").json()["total"] == 2


def test_an_oversized_body_is_refused_with_413_on_any_route(client: TestClient):
    huge = b'{"name": "' + b"x" * (2 * 2**20) + b'"}'
    response = client.post("/v1/jobs", content=huge, headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert "at most 1,048,576 bytes (DESCENT_MAX_BODY_BYTES)" in response.json()["detail"]


def test_an_oversized_chunked_body_is_refused_too(client: TestClient):
    def chunks():
        for _ in range(40):
            yield b"x" * 65536

    response = client.post(
        "/v1/jobs", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413


def test_a_name_with_a_nul_character_is_refused(client: TestClient):
    response = client.post("/v1/jobs", json={**MNIST_SPEC, "name": "bad\x00name"})
    assert response.status_code == 422
    assert "NUL character" in response.json()["detail"]
    batch = client.post("/v1/batches", json={"name": "b\x00", "specs": [MNIST_SPEC]})
    assert batch.status_code == 422


def test_a_data_set_upload_may_be_larger_than_a_job_spec(client: TestClient):
    rows = "\n".join(f"{i},{2 * i + 1}" for i in range(150_000))  # about 2 MB of CSV
    response = client.post(
        "/v1/datasets",
        data={"name": "big-line", "task": "regression"},
        files={"file": ("line.csv", f"x,y\n{rows}\n".encode(), "text/csv")},
    )
    assert response.status_code == 201, response.text


def test_a_data_set_body_that_is_not_json_is_a_422(client: TestClient):
    response = client.post(
        "/v1/datasets", content=b"\x00", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert "not valid JSON" in response.json()["detail"]
