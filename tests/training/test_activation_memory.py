"""A batch whose activations cannot fit is refused at validation, with the batch_size that
fits, instead of killing (or crashing) the worker mid-epoch."""

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from core.settings import Settings
from training.data_info import builtin_info
from training.limits import Limits
from training.resolve import resolve
from training.shapes import activation_bytes_per_example, follow
from training.spec import JobSpec

BOMB = {
    "dataset": {"name": "mnist"},
    "batch_size": 65_536,
    "model": {
        "layers": [
            {"type": "conv2d", "filters": 4096, "kernel_size": 3, "activation": "relu"},
            {"type": "global_avg_pool2d"},
            {"type": "dense", "units": 10, "activation": "softmax"},
        ]
    },
}


@pytest.fixture
def client(home: Path) -> Iterator[TestClient]:
    with TestClient(create_app(Settings())) as test_client:
        yield test_client


def test_the_estimate_counts_every_output_three_times_in_float32():
    spec = JobSpec.model_validate(BOMB)
    rows = follow(list(spec.model.layers), (28, 28, 1))
    elements = 28 * 28 + 26 * 26 * 4096 + 4096 + 10
    assert activation_bytes_per_example(rows, (28, 28, 1)) == elements * 4 * 3


@pytest.mark.parametrize("path", ["/v1/jobs/validate", "/v1/jobs"])
def test_the_activation_bomb_is_refused_with_a_batch_size_that_fits(client: TestClient, path: str):
    response = client.post(path, json=BOMB)
    assert response.status_code == 422, response.text
    error = next(e for e in response.json()["errors"] if e["field"] == "batch_size")
    assert "activation memory" in error["message"] and "GiB" in error["message"]
    fits = int(re.search(r"lower batch_size to (\d+)", error["fix"]).group(1))
    assert "DESCENT_MAX_ACTIVATION_BYTES" in error["fix"]
    checked = client.post("/v1/jobs/validate", json={**BOMB, "batch_size": fits})
    assert checked.status_code == 200, checked.text
    over = client.post("/v1/jobs/validate", json={**BOMB, "batch_size": fits + 1})
    assert over.status_code == 422


def test_the_cap_is_the_operators_and_the_presets_fit_it_at_usual_batch_sizes():
    mnist = builtin_info("mnist")
    for preset in ("dense", "cnn"):
        resolve(JobSpec.model_validate({"dataset": {"name": "mnist"}, "model": {"preset": preset},
                                        "batch_size": 1024}), mnist)  # fmt: skip
    roomy = Limits(max_activation_bytes=2**50)
    assert resolve(JobSpec.model_validate(BOMB), mnist, roomy).spec.batch_size == 65_536
