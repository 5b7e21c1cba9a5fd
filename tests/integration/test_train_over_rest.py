"""End to end on the embedded default: the real API, Celery worker, SQLite and broker, training
on slices of the real data, prediction from the exported ONNX model."""

import time
from functools import partial
from pathlib import Path

import numpy as np
import pytest

from core.settings import PROJECT_ROOT
from services.queue import TRAIN_TASK, make_celery
from tests.conftest import Service
from tests.factories import job_spec

pytestmark = pytest.mark.integration

DATA = PROJECT_ROOT / "data"
EPOCHS = 4


small_spec = partial(
    job_spec, limit=4000, units=128, loss="categorical_crossentropy",
    optimizer={"name": "adam", "learning_rate": 0.001}, epochs=EPOCHS, batch_size=32, seed=1,
)  # fmt: skip


def sample_images(name: str, count: int) -> tuple[list, np.ndarray]:
    with np.load(DATA / name) as data:
        return data["x_test"][:count].tolist(), data["y_test"][:count]


@pytest.fixture(scope="module")
def mnist_run(service: Service) -> dict:
    """Submit an MNIST job and watch its history while it runs, until it ends."""
    response = service.client.post("/v1/jobs", json=small_spec(name="mnist-small"))
    assert response.status_code == 202, response.text
    job_id = response.json()["id"]
    rows_seen_while_running = []
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        history = service.client.get(f"/v1/jobs/{job_id}/history").json()
        if history["status"] == "running":
            rows_seen_while_running.append(len(history["epochs"]))
        if history["status"] in ("succeeded", "failed"):
            break
        time.sleep(0.1)
    job = service.client.get(f"/v1/jobs/{job_id}").json()
    history = service.client.get(f"/v1/jobs/{job_id}/history").json()
    return {"job": job, "history": history, "rows_seen_while_running": rows_seen_while_running}


def test_job_succeeds_and_names_its_model(mnist_run: dict):
    job = mnist_run["job"]
    assert job["status"] == "succeeded", job["error"]
    assert job["model_id"] == job["id"]
    assert [t["status"] for t in job["transitions"]] == ["queued", "running", "succeeded"]
    times = [t["at"] for t in job["transitions"]]
    assert times == sorted(times)
    assert job["started_at"] <= job["finished_at"]
    assert job["final_metrics"]["val_accuracy"] > 0.85


def test_history_starts_at_the_untrained_model_and_the_loss_falls(mnist_run: dict):
    epochs = mnist_run["history"]["epochs"]
    assert [row["epoch"] for row in epochs] == list(range(EPOCHS + 1))
    assert epochs[-1]["loss"] < epochs[0]["loss"]
    assert epochs[-1]["val_loss"] < epochs[0]["val_loss"]
    assert epochs[0]["val_accuracy"] < 0.3 < epochs[-1]["val_accuracy"]
    assert all(row["seconds"] > 0 for row in epochs)
    assert mnist_run["job"]["final_metrics"]["val_loss"] == epochs[-1]["val_loss"]


def test_history_rows_appear_while_the_job_runs(mnist_run: dict):
    seen = mnist_run["rows_seen_while_running"]
    assert any(0 < rows < EPOCHS + 1 for rows in seen), seen


def test_model_predicts_test_digits(service: Service, mnist_run: dict):
    model_id = mnist_run["job"]["model_id"]
    images, labels = sample_images("mnist.npz", 100)
    response = service.client.post(f"/v1/models/{model_id}/predict", json={"instances": images})
    assert response.status_code == 200, response.text
    predictions = response.json()["predictions"]
    assert len(predictions) == 100
    correct = sum(p["label"] == str(y) for p, y in zip(predictions, labels, strict=True))
    assert correct >= 85
    first = predictions[0]
    assert first["label"] == str(first["class_index"])
    assert sum(first["probabilities"]) == pytest.approx(1.0, abs=1e-4)
    assert len(first["probabilities"]) == 10


def test_model_describes_itself(service: Service, mnist_run: dict):
    model_id = mnist_run["job"]["model_id"]
    model = service.client.get(f"/v1/models/{model_id}").json()
    assert model["dataset"] == "mnist"
    assert model["class_names"] == [str(d) for d in range(10)]
    assert model["export_check"]["max_abs_diff"] <= 1e-5
    listed = [m["id"] for m in service.client.get("/v1/models").json()["items"]]
    assert model_id in listed


def test_wrong_shape_instances_are_a_422(service: Service, mnist_run: dict):
    model_id = mnist_run["job"]["model_id"]
    response = service.client.post(
        f"/v1/models/{model_id}/predict", json={"instances": [[[0] * 10] * 10]}
    )
    assert response.status_code == 422
    assert "28×28" in response.json()["detail"]


def test_asl_model_answers_letters_and_a_duplicate_delivery_changes_nothing(
    service: Service, mnist_run: dict
):
    finished = mnist_run["job"]
    rows_before = len(mnist_run["history"]["epochs"])
    # Deliver the finished MNIST job's message again, then queue an ASL job behind it: once the
    # ASL job is done, the worker has consumed the duplicate.
    broker = make_celery(service.settings)
    broker.send_task(TRAIN_TASK, args=[finished["id"]], queue="any")

    response = service.client.post(
        "/v1/jobs", json=small_spec(name="asl-small", dataset="asl", classes=24, epochs=3)
    )
    asl = service.wait_for_job(response.json()["id"])
    assert asl["status"] == "succeeded", asl["error"]

    images, labels = sample_images("sign_mnist.npz", 50)
    predictions = service.client.post(
        f"/v1/models/{asl['model_id']}/predict", json={"instances": images}
    ).json()["predictions"]
    letters = {p["label"] for p in predictions}
    assert letters <= set("ABCDEFGHIKLMNOPQRSTUVWXY")
    correct = sum(p["label"] == chr(ord("A") + y) for p, y in zip(predictions, labels, strict=True))
    assert correct > 5  # well above chance (1 in 24): the letters are the model's, not noise

    again = service.client.get(f"/v1/jobs/{finished['id']}").json()
    assert again["transitions"] == finished["transitions"]
    assert again["finished_at"] == finished["finished_at"]
    history = service.client.get(f"/v1/jobs/{finished['id']}/history").json()
    assert len(history["epochs"]) == rows_before
    # ...and the duplicate did reach a worker, which found the job not queued and let it be.
    assert f"job {finished['id']} is not queued" in service.log.read_text()


def test_the_api_process_never_loads_tensorflow(service: Service, mnist_run: dict):
    """Exercise every route, prediction included, then read which libraries the API mapped."""
    client, model_id = service.client, mnist_run["job"]["model_id"]
    job_id = mnist_run["job"]["id"]
    for path in (
        "/", "/docs", "/openapi.json", "/healthz", "/v1/datasets", "/v1/jobs",
        f"/v1/jobs/{job_id}", f"/v1/jobs/{job_id}/history", "/v1/models", f"/v1/models/{model_id}",
        f"/v1/jobs/{job_id}/events", "/job.html", "/js/job.js", "/vendor/uplot/uPlot.iife.min.js",
    ):  # fmt: skip
        assert client.get(path).status_code == 200, path
    images, _ = sample_images("mnist.npz", 3)
    assert client.post(f"/v1/models/{model_id}/predict", json={"instances": images}).is_success
    assert client.post("/v1/jobs", json={"dataset": {"name": "x"}}).status_code == 422

    maps = Path(f"/proc/{service.pid}/maps").read_text()
    assert "onnxruntime" in maps  # the check can see what the process loaded
    assert "tensorflow" not in maps.lower()
