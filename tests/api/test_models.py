"""Model lookups before a model exists: 404 for strangers, 409 while the job is unfinished."""

from fastapi.testclient import TestClient

from tests.api.conftest import MNIST_SPEC

IMAGE = [[0] * 28] * 28


def test_unknown_model_is_a_404(client: TestClient):
    assert client.get("/v1/models/nope").status_code == 404
    response = client.post("/v1/models/nope/predict", json={"instances": [IMAGE]})
    assert response.status_code == 404


def test_predicting_with_a_queued_jobs_model_is_a_409_that_says_so(client: TestClient):
    job = client.post("/v1/jobs", json=MNIST_SPEC).json()
    response = client.post(f"/v1/models/{job['id']}/predict", json={"instances": [IMAGE]})
    assert response.status_code == 409
    assert "queued" in response.json()["detail"]
    assert "wait until" in response.json()["fix"]


def test_no_models_listed_before_any_job_succeeds(client: TestClient):
    client.post("/v1/jobs", json=MNIST_SPEC)
    assert client.get("/v1/models").json() == {"items": []}
