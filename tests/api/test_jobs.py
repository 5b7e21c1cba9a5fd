"""Submitting and reading jobs over HTTP, and the errors a client gets for bad input."""

from fastapi.testclient import TestClient

from core.settings import Settings
from models.db import session_scope
from services import epochs, jobs
from tests.api.conftest import MNIST_SPEC
from tests.races import committed, statement

PROBLEM = "application/problem+json"


def test_submit_returns_202_a_queued_job_and_its_location(client: TestClient):
    response = client.post("/v1/jobs", json=MNIST_SPEC)
    assert response.status_code == 202
    job = response.json()
    assert job["status"] == "queued"
    assert response.headers["location"] == f"/v1/jobs/{job['id']}"
    assert [t["status"] for t in job["transitions"]] == ["queued"]
    assert client.get(response.headers["location"]).json()["id"] == job["id"]


def test_submitted_spec_comes_back_resolved_with_its_defaults_filled_in(client: TestClient):
    job = client.post("/v1/jobs", json=MNIST_SPEC).json()
    spec = job["spec"]
    assert spec["optimizer"]["name"] == "adam"
    assert (spec["optimizer"]["learning_rate"], spec["optimizer"]["beta_1"]) == (0.001, 0.9)
    assert spec["dataset"]["validation"] == "test"
    assert (spec["task"], spec["loss"], spec["metrics"]) == (
        "classification",
        "categorical_crossentropy",
        ["accuracy"],
    )
    assert [layer["type"] for layer in spec["model"]["layers"]] == ["flatten", *["dense"] * 3]
    assert job["summary"]["total_params"] == 669_706
    assert job["warnings"] == []
    assert job["model_id"] is None


def test_jobs_are_listed_newest_first_a_page_at_a_time(client: TestClient):
    ids = [
        client.post("/v1/jobs", json={**MNIST_SPEC, "name": f"j{i}"}).json()["id"] for i in range(3)
    ]
    page = client.get("/v1/jobs", params={"limit": 2}).json()
    assert page["total"] == 3
    assert [job["id"] for job in page["items"]] == [ids[2], ids[1]]
    rest = client.get("/v1/jobs", params={"limit": 2, "offset": 2}).json()
    assert [job["id"] for job in rest["items"]] == [ids[0]]


def test_malformed_spec_is_a_422_naming_the_field_and_what_is_allowed(client: TestClient):
    spec = {**MNIST_SPEC, "optimizer": {"name": "lbfgs"}}
    response = client.post("/v1/jobs", json=spec)
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    errors = response.json()["errors"]
    assert errors[0]["field"] == "optimizer.name"
    assert errors[0]["found"] == {"name": "lbfgs"}
    assert errors[0]["allowed"] == "'sgd', 'adam', 'adamw', 'adagrad', 'rmsprop', 'nadam'"
    assert "'lbfgs' is not known here" in errors[0]["message"]
    assert errors[0]["fix"]


def test_a_bad_layer_is_named_by_its_position(client: TestClient):
    spec = {
        **MNIST_SPEC,
        "model": {"layers": [{"type": "flatten"}, {"type": "dense", "units": -1}]},
    }
    errors = client.post("/v1/jobs", json=spec).json()["errors"]
    assert errors[0]["field"] == "model.layers[1].units"
    assert (errors[0]["found"], errors[0]["allowed"], errors[0]["fix"]) == (
        -1,
        ">= 1",
        "use a value >= 1",
    )


def test_a_spec_that_cannot_train_is_refused_with_a_fix(client: TestClient):
    layers = [{"type": "flatten"}, {"type": "dense", "units": 10, "activation": "relu"}]
    response = client.post("/v1/jobs", json={**MNIST_SPEC, "model": {"layers": layers}})
    assert response.status_code == 422
    body = response.json()
    assert body["errors"] == [
        {
            "field": "model.layers[1].activation",
            "message": "the output activation is 'relu', but categorical_crossentropy expects "
            "class probabilities that sum to 1",
            "found": "relu",
            "allowed": ["softmax"],
            "fix": 'set the last dense layer\'s "activation" to "softmax"',
        }
    ]
    assert 'set the last dense layer\'s "activation" to "softmax"' in body["fix"]
    assert client.get("/v1/jobs").json()["total"] == 0  # nothing was queued


def test_body_that_is_not_json_is_a_422(client: TestClient):
    response = client.post(
        "/v1/jobs", content=b"{oops", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body"


def test_unknown_job_is_a_404_problem(client: TestClient):
    for path in ("/v1/jobs/nope", "/v1/jobs/nope/history"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.headers["content-type"] == PROBLEM
        assert "nope" in response.json()["detail"]


def test_history_of_a_queued_job_is_empty(client: TestClient):
    job = client.post("/v1/jobs", json=MNIST_SPEC).json()
    history = client.get(f"/v1/jobs/{job['id']}/history").json()
    assert history == {
        "job_id": job["id"],
        "status": "queued",
        "best_epoch": None,
        "overfitting_since": None,
        "epochs": [],
        "verdict": {
            "outcome": "in_progress",
            "success": False,
            "summary": "Queued: training has not started yet.",
        },
        "diagnoses": [],
    }


def test_history_read_as_an_epoch_is_recorded_agrees_with_its_rows(client: TestClient):
    job_id = client.post("/v1/jobs", json=MNIST_SPEC).json()["id"]
    with session_scope(Settings().resolved_database_url) as session:
        assert jobs.claim(session, job_id)
        epochs.record(session, job_id, 0, 1.0, {"loss": 2.3, "val_loss": 2.3})

    def record_better_epoch(session):
        epochs.record(session, job_id, 1, 1.0, {"loss": 0.5, "val_loss": 0.6})

    # The worker records epoch 1 (the new best) just before the API reads the epoch rows.
    with committed(record_better_epoch, before=statement("SELECT", containing="epoch.id")):
        history = client.get(f"/v1/jobs/{job_id}/history").json()
    last = history["epochs"][-1]
    assert (history["best_epoch"], history["overfitting_since"]) == (
        last["best_epoch"],
        last["overfitting_since"],
    ), history


def test_bad_paging_is_a_422(client: TestClient):
    assert client.get("/v1/jobs", params={"limit": 0}).status_code == 422
