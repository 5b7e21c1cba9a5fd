"""Cancelling over HTTP: queued jobs at once, running jobs by asking their worker to stop."""

from fastapi.testclient import TestClient

from core.settings import Settings
from models.db import session_scope
from services import epochs, jobs
from tests.api.conftest import MNIST_SPEC


def as_worker(action, *args, **kwargs):
    with session_scope(Settings().resolved_database_url) as session:
        return action(session, *args, **kwargs)


def test_a_queued_job_is_cancelled_at_once_and_no_worker_takes_it(client: TestClient):
    job_id = client.post("/v1/jobs", json=MNIST_SPEC).json()["id"]
    response = client.post(f"/v1/jobs/{job_id}/cancel")
    assert response.status_code == 200
    job = response.json()
    assert job["status"] == "cancelled"
    assert [t["status"] for t in job["transitions"]] == ["queued", "cancelled"]
    assert job["finished_at"] is not None and job["model_id"] is None
    assert not as_worker(jobs.claim, job_id)  # the worker's claim finds it no longer queued


def test_a_running_job_is_asked_to_stop_and_its_worker_sees_it(client: TestClient):
    job_id = client.post("/v1/jobs", json=MNIST_SPEC).json()["id"]
    as_worker(jobs.claim, job_id)
    assert not as_worker(jobs.should_stop, job_id)
    response = client.post(f"/v1/jobs/{job_id}/cancel")
    assert response.status_code == 202
    assert response.json()["status"] == "cancelling"
    assert as_worker(jobs.should_stop, job_id)
    assert client.post(f"/v1/jobs/{job_id}/cancel").status_code == 202  # asking twice is fine


def test_a_job_cancelled_while_running_keeps_its_epochs(client: TestClient):
    job_id = client.post("/v1/jobs", json=MNIST_SPEC).json()["id"]
    as_worker(jobs.claim, job_id)
    as_worker(epochs.record, job_id, 0, 0.5, {"loss": 2.3, "val_loss": 2.3})
    client.post(f"/v1/jobs/{job_id}/cancel")
    as_worker(jobs.end_cancelled, job_id, None)
    job = client.get(f"/v1/jobs/{job_id}").json()
    assert [t["status"] for t in job["transitions"]] == [
        "queued", "running", "cancelling", "cancelled",
    ]  # fmt: skip
    assert len(client.get(f"/v1/jobs/{job_id}/history").json()["epochs"]) == 1


def test_cancelling_a_finished_job_is_a_409_that_says_its_state(client: TestClient):
    job_id = client.post("/v1/jobs", json=MNIST_SPEC).json()["id"]
    as_worker(jobs.claim, job_id)
    as_worker(jobs.succeed, job_id, {"loss": 0.1})
    response = client.post(f"/v1/jobs/{job_id}/cancel")
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert "'succeeded'" in response.json()["detail"]
    assert "POST /v1/jobs" in response.json()["fix"]


def test_cancelling_an_unknown_job_is_a_404(client: TestClient):
    assert client.post("/v1/jobs/nope/cancel").status_code == 404


def test_overfitting_is_named_on_the_job_and_in_its_history(client: TestClient):
    job_id = client.post("/v1/jobs", json=MNIST_SPEC).json()["id"]
    as_worker(jobs.claim, job_id)
    losses = [(2.3, 2.3), (0.5, 0.6), (0.3, 0.4), (0.2, 0.45), (0.1, 0.5)]
    for epoch, (loss, val_loss) in enumerate(losses):
        as_worker(epochs.record, job_id, epoch, 1.0, {"loss": loss, "val_loss": val_loss})
    job = client.get(f"/v1/jobs/{job_id}").json()
    assert (job["best_epoch"], job["overfitting_since"]) == (2, 3)
    history = client.get(f"/v1/jobs/{job_id}/history").json()
    assert (history["best_epoch"], history["overfitting_since"]) == (2, 3)
    flags = [(row["best_epoch"], row["overfitting_since"]) for row in history["epochs"]]
    assert flags == [(0, None), (1, None), (2, None), (2, None), (2, 3)]
