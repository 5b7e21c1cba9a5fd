"""GET /v1/jobs/{id}/evaluation and its PNGs, in-process: read as the job is (another owner's
is a 404), image keys never shown, a 404 that says why when there is none."""

import io
from pathlib import Path

from fastapi.testclient import TestClient
from PIL import Image

from core.settings import Settings
from models import Job, JobStatus
from models.db import session_scope
from services import trained_models
from services.artifacts import get_store
from tests.api.conftest import MNIST_SPEC, make_key
from tests.api.test_errors import assert_problem


def evaluation(job_id: str, folder: str) -> dict:
    names = [str(d) for d in range(10)]
    confusion = [[5 if t == p else 0 for p in range(10)] for t in range(10)]
    confusion[4][9], confusion[4][4] = 1, 4
    return {
        "epoch": 1,
        "split": "validation",
        "rows": 50,
        "task": "classification",
        "class_names": names,
        "accuracy": 0.98,
        "confusion": confusion,
        "per_class": [
            {"class": n, "precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 5} for n in names
        ],
        "misclassified": [
            {
                "index": 0,
                "row": 7,
                "true": "4",
                "predicted": "9",
                "confidence": 0.9,
                "image_key": trained_models.misclassified_key(folder, 0),
            },
        ],  # fmt: skip
        "residuals": None,
    }


def finish_with_evaluation(job_id: str, tmp: Path) -> bytes:
    """What the worker does for a job it trained: the PNG stored, the model registered."""
    settings = Settings()
    folder = trained_models.files_folder(job_id, 1)
    picture = io.BytesIO()
    Image.new("L", (28, 28), 200).save(picture, format="PNG")
    (tmp / "0.png").write_bytes(picture.getvalue())
    get_store(settings).put_file(trained_models.misclassified_key(folder, 0), tmp / "0.png")
    with session_scope(settings.resolved_database_url) as session:
        session.get(Job, job_id).status = JobStatus.succeeded
        trained_models.register(
            session, job_id, dataset="mnist", task="classification",
            class_names=[str(d) for d in range(10)], input_shape=[28, 28, 1],
            scaling="divide_by_255", keras_key=f"{folder}/model.keras",
            onnx_key=f"{folder}/model.onnx", evaluation=evaluation(job_id, folder),
        )  # fmt: skip
    return picture.getvalue()


def test_the_owner_reads_the_evaluation_and_its_images_and_nobody_else_does(
    secured: TestClient, tmp_path: Path
):
    alice, bob = make_key("alice"), make_key("bob")
    job_id = secured.post("/v1/jobs", json=MNIST_SPEC, headers=alice).json()["id"]
    url = f"/v1/jobs/{job_id}/evaluation"
    body = assert_problem(secured.get(url, headers=alice), 404, "evaluation_not_found")
    assert "it is queued" in body["detail"]

    picture = finish_with_evaluation(job_id, tmp_path)
    answer = secured.get(url, headers=alice)
    assert answer.status_code == 200, answer.text
    found = answer.json()
    assert found["job_id"] == job_id and found["per_class"][0]["class"] == "0"
    (wrong,) = found["misclassified"]
    assert wrong == {
        "index": 0, "row": 7, "true": "4", "predicted": "9", "confidence": 0.9,
        "image": f"{url}/misclassified/0.png",
    }  # fmt: skip
    image = secured.get(wrong["image"], headers=alice)
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    assert image.content == picture
    assert_problem(secured.get(f"{url}/misclassified/1.png", headers=alice), 404, "not_found")

    for path in (url, wrong["image"]):  # another owner's job: as if there were none
        assert_problem(secured.get(path, headers=bob), 404, "job_not_found")
    assert_problem(secured.get(url), 401, "unauthorized")


def test_a_job_that_ended_without_being_evaluated_says_why(client: TestClient):
    job_id = client.post("/v1/jobs", json=MNIST_SPEC).json()["id"]
    client.post(f"/v1/jobs/{job_id}/cancel")
    body = assert_problem(client.get(f"/v1/jobs/{job_id}/evaluation"), 404, "evaluation_not_found")
    assert "ended cancelled" in body["detail"] and "validation" in body["fix"]
    assert_problem(client.get("/v1/jobs/nope/evaluation"), 404, "job_not_found")
