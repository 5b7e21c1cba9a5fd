"""The three tasks end to end through HTTP with the real worker: a binary "is it a 7?" on
mnist, and the lesson's two points of y = mx + b uploaded as a data set and fitted by one
linear unit. (The multi-class job is test_train_over_rest's.)"""

import pytest

from tests.conftest import Service
from tests.factories import job_spec

pytestmark = pytest.mark.integration

LINE = {"name": "line", "task": "regression", "x": [[1], [2]], "y": [3, 5]}
LINE_EPOCHS = 100


@pytest.fixture(scope="module")
def finished(service: Service) -> dict[str, dict]:
    """Upload the line, submit both jobs at once, wait for both."""
    client = service.client
    assert client.post("/v1/datasets", json=LINE).status_code == 201
    specs = {
        "binary": job_spec(
            validation=0.2, positive_classes=[7], units=32, classes=1, output="sigmoid",
            loss="binary_crossentropy", seed=1,
        ),
        "regression": {
            "dataset": {"name": "line"},
            "model": {"layers": [{"type": "dense", "units": 1, "activation": "linear"}]},
            "loss": "mse",
            "optimizer": {"name": "sgd", "learning_rate": 0.1, "momentum": 0.8},
            "epochs": LINE_EPOCHS,
        },
    }  # fmt: skip
    ids = {}
    for task, spec in specs.items():
        response = client.post("/v1/jobs", json=spec)
        assert response.status_code == 202, response.text
        ids[task] = response.json()["id"]
    return {task: service.wait_for_job(job_id) for task, job_id in ids.items()}


def test_is_it_a_seven_trains_a_binary_model(service: Service, finished: dict):
    job = finished["binary"]
    assert job["status"] == "succeeded", job["error"]
    assert job["spec"]["task"] == "binary"
    assert job["summary"]["class_names"] == ["not 7", "7"]
    metrics = job["final_metrics"]
    assert metrics["val_accuracy"] > 0.95  # better than always answering "not 7" (about 0.9)
    assert metrics["test_accuracy"] > 0.95  # the test split, scored once after training
    history = service.client.get(f"/v1/jobs/{job['id']}/history").json()["epochs"]
    assert [row["epoch"] for row in history] == [0, 1, 2]
    model = service.client.get(f"/v1/models/{job['model_id']}").json()
    assert (model["task"], model["class_names"]) == ("binary", ["not 7", "7"])
    assert (model["input_shape"], model["scaling"]) == ([28, 28, 1], "divide_by_255")


def test_two_points_fit_y_equals_2x_plus_1(service: Service, finished: dict):
    job = finished["regression"]
    assert job["status"] == "succeeded", job["error"]
    history = service.client.get(f"/v1/jobs/{job['id']}/history").json()["epochs"]
    assert [row["epoch"] for row in history] == list(range(LINE_EPOCHS + 1))
    assert history[0]["loss"] > 0.01 > 1e-4 > history[-1]["loss"]
    assert history[0]["accuracy"] is None and history[0]["val_loss"] is None
    assert set(history[-1]["metrics"]) == {"rmse", "mae"}

    weights = service.client.get(f"/v1/models/{job['model_id']}/weights").json()
    (layer,) = weights["layers"]
    (m,), b = layer["weights"]["kernel"][0], layer["weights"]["bias"][0]
    assert (m, b) == (pytest.approx(2, abs=0.02), pytest.approx(1, abs=0.03))
    assert weights["total_params"] == 2

    model = service.client.get(f"/v1/models/{job['model_id']}").json()
    assert (model["task"], model["dataset"], model["class_names"]) == ("regression", "line", [])
    assert (model["input_shape"], model["scaling"]) == ([1], "none")

    # The model answers for x it never saw, from the features as the user sent them.
    answer = service.client.post(
        f"/v1/models/{job['model_id']}/predict", json={"instances": [[3], [-10.5]]}
    )
    assert answer.status_code == 200, answer.text
    values = [p["value"] for p in answer.json()["predictions"]]
    assert values == [pytest.approx(7, abs=0.1), pytest.approx(-20, abs=0.4)]
    image = service.client.post(
        f"/v1/models/{job['model_id']}/predict", files={"file": ("x.png", b"\x89PNG", "image/png")}
    )
    assert image.status_code == 422
    assert "not images" in image.json()["detail"]


def test_weights_of_a_model_above_the_cap_are_refused(service: Service, finished: dict):
    spec = job_spec(limit=100, validation=None, units=130, epochs=1)
    job = service.wait_for_job(service.client.post("/v1/jobs", json=spec).json()["id"])
    assert job["status"] == "succeeded", job["error"]
    response = service.client.get(f"/v1/models/{job['model_id']}/weights")
    assert response.status_code == 409
    assert "103,360 parameters" in response.json()["detail"]
    assert "DESCENT_MAX_WEIGHTS_PARAMS" in response.json()["fix"]
