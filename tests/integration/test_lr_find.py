"""The learning-rate finder end to end: POST /v1/lr-find through the real API and Celery worker,
and ``descent lr-find`` with --plot and --keep-model."""

import pytest
import yaml
from PIL import Image
from typer.testing import CliRunner

from descent.cli import app
from tests.conftest import Service

pytestmark = pytest.mark.integration

# The DLI MNIST dense model (examples/mnist-dense.yaml) with Adam at 0.001, narrowed to 128
# units a layer and the first 2,000 training rows to keep the run short.
SPEC = {
    "name": "lr-find-mnist",
    "dataset": {"name": "mnist", "validation": {"fraction": 0.1}, "limit": 2000},
    "model": {
        "layers": [
            {"type": "flatten"},
            {"type": "dense", "units": 128, "activation": "relu"},
            {"type": "dense", "units": 128, "activation": "relu"},
            {"type": "dense", "units": 10, "activation": "softmax"},
        ]
    },
    "loss": "categorical_crossentropy",
    "optimizer": {"name": "adam", "learning_rate": 0.001},
    "batch_size": 32,
    "seed": 0,
}


@pytest.fixture(scope="module")
def found(service: Service) -> dict:
    response = service.client.post("/v1/lr-find", json={"spec": SPEC})
    assert response.status_code == 202, response.text
    job = service.wait_for_job(response.json()["id"], timeout=240)
    return {"job": job, "lr_find": service.client.get(response.headers["location"]).json()}


def test_the_dense_mnist_model_with_adam_gets_a_rate_near_0_001(found: dict):
    result = found["lr_find"]
    assert result["status"] == "succeeded", result["error"]
    assert result["suggested_learning_rate"] is not None, result["reason"]
    assert 1e-4 <= result["suggested_learning_rate"] <= 1e-2, result["reason"]
    assert result["reason"].startswith("The loss (a running median")
    assert 10 < len(result["curve"]) <= 300
    assert found["job"]["kind"] == "lr_find"


def test_no_model_and_no_file_is_left_behind(service: Service, found: dict):
    job_id = found["job"]["id"]
    assert found["job"]["model_id"] is None and found["lr_find"]["model_id"] is None
    assert service.client.get(f"/v1/models/{job_id}").status_code == 404
    settings = service.settings
    if settings.artifact_store == "local":
        assert not (settings.resolved_artifacts_dir / job_id).exists()


def test_bad_bounds_are_refused_with_a_fix(service: Service):
    body = {"spec": SPEC, "min_learning_rate": 1.0, "max_learning_rate": 0.1}
    response = service.client.post("/v1/lr-find", json=body)
    assert response.status_code == 422
    assert "max_learning_rate" in response.json()["detail"] and response.json()["fix"]


def test_the_cli_draws_the_curve_writes_a_png_and_keeps_a_model_when_asked(
    service: Service, found: dict, tmp_path
):
    spec_file, png = tmp_path / "spec.yaml", tmp_path / "curve.png"
    spec_file.write_text(yaml.safe_dump(SPEC))
    env = {"DESCENT_URL": str(service.client.base_url), "COLUMNS": "100"}
    args = ["lr-find", str(spec_file), "--min", "1e-5", "--max", "1", "--steps", "60"]
    result = CliRunner().invoke(app, [*args, "--keep-model", "--plot", str(png)], env=env)
    assert result.exit_code == 0, result.output
    assert "loss (smoothed)" in result.output and "*" in result.output
    assert "suggested learning rate:" in result.output and "why: " in result.output
    with Image.open(png) as image:
        assert image.format == "PNG" and image.width > 300
    model_id = result.output.split("model kept: ")[1].split()[0]
    assert service.client.get(f"/v1/models/{model_id}").status_code == 200
    job = service.client.get(f"/v1/jobs/{model_id}").json()
    assert job["kind"] == "lr_find" and job["model_id"] == model_id
