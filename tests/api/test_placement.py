"""Queues: a job goes to the queue its resources ask for, is refused if no worker could ever
take it, and says its place in line while it waits."""

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from core.settings import Settings
from tests.api.conftest import MNIST_SPEC


def spec(accelerator: str | None = None, **extra) -> dict:
    resources = {"resources": {"accelerator": accelerator}} if accelerator else {}
    return MNIST_SPEC | resources | extra


def test_a_gpu_job_is_refused_where_no_gpu_worker_serves(client: TestClient):
    response = client.post("/v1/jobs", json=spec("gpu"))
    assert response.status_code == 422
    body = response.json()
    assert "no GPU worker" in body["detail"]
    assert "DESCENT_GPU_QUEUES_AVAILABLE" in body["fix"] and "--gpus" in body["fix"]
    assert client.get("/v1/jobs").json()["total"] == 0


def test_mixed_precision_on_a_job_that_may_run_on_a_cpu_is_refused(client: TestClient):
    response = client.post("/v1/jobs", json=spec("any", precision="mixed_float16"))
    assert response.status_code == 422
    assert response.json()["errors"][0]["message"].startswith("precision mixed_float16")


def test_an_unknown_accelerator_is_refused(client: TestClient):
    response = client.post("/v1/jobs", json=spec("tpu"))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "resources.accelerator"


@pytest.fixture
def gpu_client(home: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("DESCENT_GPU_QUEUES_AVAILABLE", "true")
    with TestClient(create_app(Settings())) as test_client:
        yield test_client


def test_with_a_gpu_worker_a_mixed_precision_gpu_job_is_accepted(gpu_client: TestClient):
    response = gpu_client.post("/v1/jobs", json=spec("gpu", precision="mixed_float16"))
    assert response.status_code == 202, response.text
    assert response.json()["queue"] == "gpu"


def test_queue_position_counts_the_queued_jobs_ahead_in_the_same_queue(client: TestClient):
    first, second = (client.post("/v1/jobs", json=spec()).json() for _ in range(2))
    cpu = client.post("/v1/jobs", json=spec("cpu")).json()
    third = client.post("/v1/jobs", json=spec("any")).json()

    def position(job: dict) -> int | None:
        return client.get(f"/v1/jobs/{job['id']}").json()["queue_position"]

    assert [position(j) for j in (first, second, third)] == [1, 2, 3]
    assert (cpu["queue"], position(cpu)) == ("cpu", 1)
    client.post(f"/v1/jobs/{first['id']}/cancel")
    assert [position(j) for j in (first, second, third)] == [None, 1, 2]
    assert client.get(f"/v1/jobs/{second['id']}").json()["device"] is None
