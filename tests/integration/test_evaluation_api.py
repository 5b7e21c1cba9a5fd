"""Layer health and the evaluation, end to end: a small MNIST job on the real worker records
each epoch's health, and its evaluation agrees with its history and with the predict route."""

import pytest

from tests.conftest import Service

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def evaluated(service: Service, healthy_job: dict) -> dict:
    job = healthy_job
    history = service.client.get(f"/v1/jobs/{job['id']}/history").json()
    evaluation = service.client.get(f"/v1/jobs/{job['id']}/evaluation")
    assert evaluation.status_code == 200, evaluation.text
    return {"job": job, "history": history, "evaluation": evaluation.json()}


def test_every_epoch_of_the_history_carries_its_layer_health(evaluated: dict):
    epochs = evaluated["history"]["epochs"]
    assert [row["epoch"] for row in epochs] == [0, 1, 2]
    for row in epochs:
        hidden, output = row["health"]
        assert (hidden["index"], hidden["layer"], hidden["activation"]) == (1, "dense_1", "relu")
        assert (output["index"], output["activation"]) == (2, "softmax")
        assert hidden["gradient_norm"] > 0 and 0 <= hidden["dead_fraction"] <= 1
        assert (hidden["update_ratio"] is None) == (row["epoch"] == 0)


def test_the_confusion_matrix_sums_to_the_validation_rows_and_matches_the_history(
    evaluated: dict,
):
    evaluation, job = evaluated["evaluation"], evaluated["job"]
    assert evaluation["job_id"] == job["id"]
    assert (evaluation["split"], evaluation["rows"], evaluation["epoch"]) == ("validation", 200, 2)
    matrix = evaluation["confusion"]
    assert sum(map(sum, matrix)) == 200
    diagonal = sum(matrix[i][i] for i in range(len(matrix)))
    recorded = next(r for r in evaluated["history"]["epochs"] if r["epoch"] == 2)
    assert diagonal / 200 == pytest.approx(recorded["val_accuracy"], abs=1e-6)
    assert evaluation["accuracy"] == diagonal / 200
    assert [c["support"] for c in evaluation["per_class"]] == [sum(row) for row in matrix]
    assert evaluation["residuals"] is None


def test_the_gallery_shows_what_the_predict_route_predicts(service: Service, evaluated: dict):
    job_id, wrong = evaluated["job"]["id"], evaluated["evaluation"]["misclassified"]
    assert 0 < len(wrong) <= 36
    assert all("image_key" not in entry for entry in wrong)
    files = []
    for entry in wrong:
        assert entry["image"] == f"/v1/jobs/{job_id}/evaluation/misclassified/{entry['index']}.png"
        response = service.client.get(entry["image"])
        assert response.status_code == 200
        assert response.headers["content-type"] == "image/png"
        files.append(("file", (f"{entry['index']}.png", response.content, "image/png")))
    answer = service.client.post(f"/v1/models/{job_id}/predict", files=files)
    assert answer.status_code == 200, answer.text
    labels = [prediction["label"] for prediction in answer.json()["predictions"]]
    assert labels == [entry["predicted"] for entry in wrong]
    assert all(entry["predicted"] != entry["true"] for entry in wrong)
    missing = service.client.get(f"/v1/jobs/{job_id}/evaluation/misclassified/99.png")
    assert missing.status_code == 404
