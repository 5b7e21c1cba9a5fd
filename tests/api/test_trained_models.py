"""Model lookups before a model exists: 404 for strangers, 409 while the job is unfinished."""

from fastapi.testclient import TestClient

from core.settings import Settings
from models.db import session_scope
from services import jobs, trained_models
from tests.api.conftest import MNIST_SPEC
from tests.races import committed, statement

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
    listed = client.get("/v1/models").json()
    assert (listed["items"], listed["total"], listed["next"]) == ([], 0, None)


def test_a_model_asked_for_as_its_job_succeeds_is_never_said_to_be_missing(client: TestClient):
    job_id = client.post("/v1/jobs", json=MNIST_SPEC).json()["id"]
    with session_scope(Settings().resolved_database_url) as session:
        assert jobs.claim(session, job_id)

    def succeed(session):  # what the worker commits at the end: the model and the job's end
        trained_models.register(
            session, job_id, dataset="mnist", task="classification", class_names=["0"],
            input_shape=[28, 28, 1], scaling="divide_by_255", keras_key="x.keras",
            onnx_key="x.onnx",
        )  # fmt: skip
        jobs.succeed(session, job_id, {"loss": 0.1})

    # The worker commits just after the API has looked for the model.
    with committed(succeed, after=statement("SELECT", containing="trained_model")):
        response = client.get(f"/v1/models/{job_id}")
    if response.status_code == 409:  # asked just before: the job was still running
        assert "not ready: its job is running" in response.json()["detail"]
    else:
        assert response.status_code == 200, response.json()
        assert response.json()["id"] == job_id
