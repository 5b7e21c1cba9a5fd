"""The history carries the verdict and the diagnoses drawn from its rows and layer health."""

from fastapi.testclient import TestClient

from core.settings import Settings
from models.db import session_scope
from services import epochs, jobs
from tests.api.conftest import MNIST_SPEC


def record(job_id: str, rows: list[dict]) -> None:
    with session_scope(Settings().resolved_database_url) as session:
        assert jobs.claim(session, job_id)
        for epoch, logs in enumerate(rows):
            epochs.record(session, job_id, epoch, 1.0, logs)


def test_a_nan_loss_makes_the_history_say_diverged_with_the_rate_to_try(client: TestClient):
    spec = MNIST_SPEC | {"optimizer": {"name": "adam", "learning_rate": 5.0}}
    job_id = client.post("/v1/jobs", json=spec).json()["id"]
    record(job_id, [{"loss": 2.3, "accuracy": 0.1}, {"loss": float("nan"), "accuracy": 0.1}])
    history = client.get(f"/v1/jobs/{job_id}/history").json()
    assert history["verdict"]["outcome"] == "diverged"
    assert history["verdict"]["success"] is False
    [diverged] = history["diagnoses"]
    assert (diverged["code"], diverged["severity"], diverged["since_epoch"]) == (
        "diverged", "error", 1,
    )  # fmt: skip
    assert "5 -> 0.5" in diverged["remedies"][0]


def test_layer_health_in_the_rows_shows_as_a_diagnosis(client: TestClient):
    job_id = client.post("/v1/jobs", json=MNIST_SPEC).json()["id"]

    def health(first: float) -> list[dict]:
        return [
            {"index": i, "layer": f"dense_{i}", "type": "dense", "activation": act,
             "weight_norm": 1.0, "gradient_norm": norm, "update_ratio": None,
             "dead_fraction": dead, "saturated_fraction": None}
            for i, act, norm, dead in ((1, "relu", first, 0.75), (2, "softmax", 0.3, None))
        ]  # fmt: skip

    record(job_id, [
        {"loss": 2.3, "accuracy": 0.1, "val_loss": 2.3, "health": health(0.2)},
        {"loss": 0.5, "accuracy": 0.9, "val_loss": 0.5, "health": health(0.001)},
    ])  # fmt: skip
    history = client.get(f"/v1/jobs/{job_id}/history").json()
    assert history["epochs"][1]["health"][0]["dead_fraction"] == 0.75
    found = {d["code"]: d for d in history["diagnoses"]}
    assert set(found) == {"vanishing_gradients", "dead_relus"}
    assert found["vanishing_gradients"]["since_epoch"] == 1
    assert found["vanishing_gradients"]["numbers"]["ratio"] == 300
    assert history["verdict"]["outcome"] == "in_progress"
