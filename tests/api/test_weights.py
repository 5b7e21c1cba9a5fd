"""GET /v1/models/{id}/weights before a model exists, and above the size cap."""

from fastapi.testclient import TestClient

from tests.api.conftest import MNIST_SPEC


def test_weights_of_an_unknown_model_are_a_404(client: TestClient):
    assert client.get("/v1/models/nope/weights").status_code == 404


def test_weights_of_a_queued_job_are_a_409_that_says_so(client: TestClient):
    job = client.post("/v1/jobs", json=MNIST_SPEC).json()
    response = client.get(f"/v1/models/{job['id']}/weights")
    assert response.status_code == 409
    assert "queued" in response.json()["detail"]
