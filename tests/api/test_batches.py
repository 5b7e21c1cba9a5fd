"""Submitting, reading and cancelling batches over HTTP (no worker: jobs stay queued; epochs
are recorded through the same service the worker uses)."""

from fastapi.testclient import TestClient

from core.settings import Settings
from models.db import session_scope
from services import epochs
from tests.api.conftest import MNIST_SPEC

SWEEP = {
    "name": "opt",
    "base": MNIST_SPEC,
    "vary": {"optimizer.name": ["sgd", "adam"], "optimizer.learning_rate": [0.1, 0.01]},
    "max_parallel": 2,
}


def record(job_id: str, *val_losses: float) -> None:
    with session_scope(Settings().resolved_database_url) as session:
        for epoch, value in enumerate(val_losses):
            logs = {"loss": value, "val_loss": value, "val_accuracy": 1 - value / 10}
            epochs.record(session, job_id, epoch, 1.0, logs)


def test_a_sweep_creates_one_queued_job_per_combination(client: TestClient):
    response = client.post("/v1/batches", json=SWEEP)
    assert response.status_code == 202, response.text
    batch = response.json()
    assert response.headers["location"] == f"/v1/batches/{batch['id']}"
    assert batch["size"] == 4
    assert batch["status"] == "queued"
    assert batch["counts"]["queued"] == 4
    assert [job["varied"] for job in batch["jobs"]] == [
        {"optimizer.name": "sgd", "optimizer.learning_rate": 0.1},
        {"optimizer.name": "sgd", "optimizer.learning_rate": 0.01},
        {"optimizer.name": "adam", "optimizer.learning_rate": 0.1},
        {"optimizer.name": "adam", "optimizer.learning_rate": 0.01},
    ]
    job = client.get(f"/v1/jobs/{batch['jobs'][2]['id']}").json()
    optimizer = job["spec"]["optimizer"]  # resolved: Adam's other arguments are written out
    assert (optimizer["name"], optimizer["learning_rate"], optimizer["beta_1"]) == (
        "adam",
        0.1,
        0.9,
    )
    assert job["batch_id"] == batch["id"]


def test_a_list_of_specs_runs_once_per_seed(client: TestClient):
    body = {"specs": [MNIST_SPEC, {**MNIST_SPEC, "epochs": 2}], "seeds": [3, 4]}
    batch = client.post("/v1/batches", json=body).json()
    assert [(j["varied"]["seed"], j["varied"]["epochs"]) for j in batch["jobs"]] == [
        (3, 1), (3, 2), (4, 1), (4, 2),
    ]  # fmt: skip


def test_one_invalid_item_refuses_the_whole_batch_naming_its_index(client: TestClient):
    bad = {**MNIST_SPEC, "optimizer": {"name": "lbfgs"}}
    response = client.post("/v1/batches", json={"specs": [MNIST_SPEC, MNIST_SPEC, bad]})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["errors"][0]["item"] == 2
    assert problem["errors"][0]["field"] == "optimizer.name"
    assert "item 2: optimizer.name" in problem["detail"]
    assert client.get("/v1/jobs").json()["total"] == 0


def test_an_invalid_value_in_a_grid_is_named_by_item_and_values(client: TestClient):
    sweep = {**SWEEP, "vary": {"optimizer.learning_rate": [0.1, -1.0]}}
    problem = client.post("/v1/batches", json=sweep).json()
    assert [(e["item"], e["field"]) for e in problem["errors"]] == [(1, "optimizer.learning_rate")]
    assert problem["errors"][0]["name"] == "dense optimizer.learning_rate=-1.0"


def test_a_vary_path_that_cannot_be_set_is_a_422(client: TestClient):
    sweep = {**SWEEP, "vary": {"model.layers[0].units": [1]}}
    problem = client.post("/v1/batches", json=sweep).json()
    assert problem["status"] == 422
    assert problem["errors"][0]["field"] == "vary.model.layers[0].units"


def test_specs_and_base_together_are_refused(client: TestClient):
    body = {**SWEEP, "specs": [MNIST_SPEC]}
    problem = client.post("/v1/batches", json=body).json()
    assert problem["status"] == 422
    assert 'exactly one of "specs"' in problem["detail"]


def test_the_leaderboard_ranks_by_the_best_epoch_not_the_last(client: TestClient):
    batch = client.post("/v1/batches", json=SWEEP).json()
    a, b, c, _ = (job["id"] for job in batch["jobs"])
    record(a, 2.3, 0.9, 0.5)  # best last
    record(b, 2.3, 0.4, 0.8)  # best at epoch 1, then worse: it still ranks first
    record(c, 2.3)  # the untrained model only: not ranked yet
    found = client.get(f"/v1/batches/{batch['id']}").json()
    assert found["metric"] == "val_loss" and found["goal"] == "min"
    assert [(r["job_id"], r["value"], r["epoch"]) for r in found["leaderboard"]] == [
        (b, 0.4, 1),
        (a, 0.5, 2),
    ]
    assert found["curves"]["epochs"] == [0, 1, 2]
    assert [s["values"] for s in found["curves"]["series"]] == [
        [2.3, 0.9, 0.5], [2.3, 0.4, 0.8], [2.3, None, None], [None, None, None],
    ]  # fmt: skip
    assert [job["epochs_done"] for job in found["jobs"]] == [2, 2, 0, -1]


def test_an_accuracy_is_ranked_highest_first(client: TestClient):
    batch = client.post("/v1/batches", json=SWEEP).json()
    a, b = batch["jobs"][0]["id"], batch["jobs"][1]["id"]
    record(a, 2.3, 0.9)
    record(b, 2.3, 0.4)
    found = client.get(f"/v1/batches/{batch['id']}", params={"metric": "val_accuracy"}).json()
    assert found["goal"] == "max"
    assert [r["job_id"] for r in found["leaderboard"]] == [b, a]


def test_an_unknown_metric_is_a_422_listing_the_known_ones(client: TestClient):
    batch = client.post("/v1/batches", json=SWEEP).json()
    problem = client.get(f"/v1/batches/{batch['id']}", params={"metric": "f1"}).json()
    assert problem["status"] == 422
    assert "val_accuracy" in problem["fix"]


def test_cancel_cancels_the_queued_jobs(client: TestClient):
    batch = client.post("/v1/batches", json=SWEEP).json()
    response = client.post(f"/v1/batches/{batch['id']}/cancel")
    assert response.status_code == 200
    cancelled = response.json()
    assert cancelled["status"] == "cancelled"
    assert cancelled["counts"]["cancelled"] == 4
    assert cancelled["cancelled_at"] is not None
    job = client.get(f"/v1/jobs/{batch['jobs'][0]['id']}").json()
    assert [t["status"] for t in job["transitions"]] == ["queued", "cancelled"]


def test_an_unknown_batch_is_a_404(client: TestClient):
    assert client.get("/v1/batches/nope").status_code == 404
    assert client.post("/v1/batches/nope/cancel").status_code == 404
