"""POST /v1/lr-find and GET /v1/lr-find/{id} in-process (no worker: the test stays queued):
the spec is checked as POST /v1/jobs checks it, the bounds are refused with a fix, and a range
test is owned and kinded like a job."""

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import MNIST_SPEC, make_key


def test_a_range_test_is_queued_as_a_job_of_its_kind(client: TestClient):
    response = client.post("/v1/lr-find", json={"spec": MNIST_SPEC, "steps": 50})
    assert response.status_code == 202, response.text
    found = response.json()
    assert response.headers["location"] == f"/v1/lr-find/{found['id']}"
    assert found["status"] == "queued"
    assert (found["min_learning_rate"], found["max_learning_rate"]) == (1e-7, 10.0)
    assert (found["steps"], found["keep_model"]) == (50, False)
    assert found["curve"] == [] and found["suggested_learning_rate"] is None
    assert found["model_id"] is None
    assert client.get(response.headers["location"]).json() == found
    job = client.get(f"/v1/jobs/{found['id']}").json()
    assert job["kind"] == "lr_find" and job["model_id"] is None
    (listed,) = client.get("/v1/jobs").json()["items"]
    assert listed["kind"] == "lr_find"


def test_a_training_jobs_id_is_not_a_range_test(client: TestClient):
    job = client.post("/v1/jobs", json=MNIST_SPEC).json()
    assert job["kind"] == "train"
    finder = client.post("/v1/lr-find", json={"spec": MNIST_SPEC}).json()
    for kind, expected in (("train", job), ("lr_find", finder)):
        (listed,) = client.get("/v1/jobs", params={"kind": kind}).json()["items"]
        assert listed["id"] == expected["id"]
    response = client.get(f"/v1/lr-find/{job['id']}")
    assert response.status_code == 404
    assert response.json()["code"] == "job_not_found"
    assert client.get("/v1/lr-find/nope").status_code == 404


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"min_learning_rate": 1e-12}, "min_learning_rate"),
        ({"max_learning_rate": 1000}, "max_learning_rate"),
        ({"steps": 10}, "steps"),
        ({"steps": 5000}, "steps"),
        ({"min_learning_rate": 0.1, "max_learning_rate": 0.01}, "max_learning_rate"),
        ({"min_learning_rate": 0.1, "max_learning_rate": 0.1}, "max_learning_rate"),
    ],
)
def test_bad_bounds_are_refused_with_a_fix(client: TestClient, options: dict, field: str):
    response = client.post("/v1/lr-find", json={"spec": MNIST_SPEC, **options})
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["fix"]
    assert [error["field"] for error in problem["errors"]] == [field]
    assert problem["errors"][0]["fix"]
    assert client.get("/v1/jobs").json()["total"] == 0


def test_the_spec_is_refused_as_a_jobs_spec_is(client: TestClient):
    spec = {**MNIST_SPEC, "dataset": {"name": "nothing-here"}}
    job = client.post("/v1/jobs", json=spec).json()
    found = client.post("/v1/lr-find", json={"spec": spec}).json()
    assert found["code"] == job["code"] == "spec_invalid"
    assert found["errors"] == job["errors"]
    bad = {**MNIST_SPEC, "epochs": 0}
    response = client.post("/v1/lr-find", json={"spec": bad})
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["spec.epochs"]


def test_the_spec_warnings_come_back(client: TestClient):
    spec = {**MNIST_SPEC, "loss": "mse", "optimizer": {"name": "sgd", "learning_rate": 2}}
    job = client.post("/v1/jobs", json=spec).json()
    found = client.post("/v1/lr-find", json={"spec": spec}).json()
    assert found["warnings"] == job["warnings"] != []


def test_another_owners_range_test_is_a_404(secured: TestClient):
    alice, bob = make_key("alice"), make_key("bob")
    found = secured.post("/v1/lr-find", json={"spec": MNIST_SPEC}, headers=alice).json()
    assert secured.get(f"/v1/lr-find/{found['id']}", headers=alice).status_code == 200
    assert secured.get(f"/v1/lr-find/{found['id']}", headers=bob).status_code == 404
    assert secured.get(f"/v1/lr-find/{found['id']}").status_code == 401
