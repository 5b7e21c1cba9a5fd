"""Cancelling on the real service, watched through the event stream as a client would."""

import threading
from functools import partial

import httpx
import numpy as np
import pytest

from core.settings import PROJECT_ROOT
from tests.conftest import Service
from tests.factories import job_spec
from tests.sse import Event, parse

pytestmark = pytest.mark.integration

EPOCHS = 50  # far more than the test waits for: the job only ends because it is cancelled


spec = partial(job_spec, limit=4000, epochs=EPOCHS, batch_size=32)


class Listener(threading.Thread):
    """Reads a job's event stream on its own connection until the stream ends."""

    def __init__(self, service: Service, job_id: str) -> None:
        super().__init__(daemon=True)
        self.url = f"{service.client.base_url}/v1/jobs/{job_id}/events"
        self.events: list[Event] = []
        self.epochs_seen = threading.Condition()

    def run(self) -> None:
        with httpx.stream("GET", self.url, timeout=120) as response:
            for event in parse(response.iter_lines()):
                with self.epochs_seen:
                    self.events.append(event)
                    self.epochs_seen.notify_all()

    def wait_for_epoch(self, epoch: int, timeout: float = 180) -> int:
        """Block until the stream has delivered ``epoch``; the number of epoch rows seen."""
        with self.epochs_seen:
            assert self.epochs_seen.wait_for(
                lambda: any(e.kind == "epoch" and e.data["epoch"] >= epoch for e in self.events),
                timeout,
            ), f"epoch {epoch} never arrived: {self.events[-5:]}"
            return sum(e.kind == "epoch" for e in self.events)


@pytest.fixture(scope="module")
def cancelled_run(service: Service) -> dict:
    """A running job and one queued behind it; cancel both, the running one after epoch 2."""
    # Batches of 8: an epoch lasts several of the worker's 0.2 s cancel checks even with fast
    # steps, so "at most the epoch in progress finishes" is about the cancel, not the clock.
    running = service.client.post("/v1/jobs", json=spec(name="to-stop", batch_size=8)).json()
    listener = Listener(service, running["id"])
    listener.start()
    queued = service.client.post("/v1/jobs", json=spec(name="never-runs")).json()
    queued_cancel = service.client.post(f"/v1/jobs/{queued['id']}/cancel")

    epochs_before_cancel = listener.wait_for_epoch(2)
    cancel = service.client.post(f"/v1/jobs/{running['id']}/cancel")
    job = service.wait_for_job(running["id"])
    listener.join(60)
    # One more short job: once it is done, the worker has also consumed the queued job's message.
    last = service.client.post("/v1/jobs", json=spec(name="after", epochs=1, limit=300)).json()
    service.wait_for_job(last["id"])
    return {
        "job": job,
        "cancel": cancel,
        "events": listener.events,
        "stream_ended": not listener.is_alive(),
        "epochs_before_cancel": epochs_before_cancel,
        "queued_cancel": queued_cancel,
        "queued_after": service.client.get(f"/v1/jobs/{queued['id']}").json(),
    }


def test_a_running_job_stops_soon_after_cancel_and_keeps_its_epochs(
    service: Service, cancelled_run: dict
):
    assert cancelled_run["cancel"].status_code == 202
    assert cancelled_run["cancel"].json()["status"] == "cancelling"
    job = cancelled_run["job"]
    assert job["status"] == "cancelled", job["error"]
    assert [t["status"] for t in job["transitions"]] == [
        "queued", "running", "cancelling", "cancelled",
    ]  # fmt: skip
    rows = service.client.get(f"/v1/jobs/{job['id']}/history").json()["epochs"]
    assert [row["epoch"] for row in rows] == list(range(len(rows)))
    assert len(rows) >= cancelled_run["epochs_before_cancel"]  # none of them was dropped
    # Stopping within a batch: at most the epoch in progress when the cancel was stored gets to
    # finish. A job's event ids follow commit order, so the stream tells what came after it
    # (counting epochs seen before the request instead would race the request itself).
    events = cancelled_run["events"]
    cancelling = next(
        e.id for e in events if e.kind == "status" and e.data["status"] == "cancelling"
    )
    after = [e.data["epoch"] for e in events if e.kind == "epoch" and e.id > cancelling]
    assert len(after) <= 1, f"epochs {after} finished after the cancel"
    assert len(rows) < EPOCHS
    assert job["final_metrics"]["val_loss"] == rows[-1]["val_loss"]


def test_a_cancelled_jobs_last_weights_still_predict(service: Service, cancelled_run: dict):
    model_id = cancelled_run["job"]["model_id"]
    assert model_id == cancelled_run["job"]["id"]
    with np.load(PROJECT_ROOT / "data" / "mnist.npz") as data:
        images, labels = data["x_test"][:50].tolist(), data["y_test"][:50]
    response = service.client.post(f"/v1/models/{model_id}/predict", json={"instances": images})
    assert response.status_code == 200, response.text
    correct = sum(
        p["label"] == str(y) for p, y in zip(response.json()["predictions"], labels, strict=True)
    )
    assert correct > 25  # two epochs on 3,600 digits: far better than chance


def test_the_event_stream_tells_the_whole_story_and_ends(service: Service, cancelled_run: dict):
    events = cancelled_run["events"]
    assert cancelled_run["stream_ended"]
    statuses = [e.data["status"] for e in events if e.kind == "status"]
    assert statuses == ["queued", "running", "cancelling", "cancelled"]
    assert [e.id for e in events] == sorted({e.id for e in events})
    job_id = cancelled_run["job"]["id"]
    rows = service.client.get(f"/v1/jobs/{job_id}/history").json()["epochs"]
    assert [e.data for e in events if e.kind == "epoch"] == rows
    progress = [e.data for e in events if e.kind == "progress"]
    assert progress, "batch progress was streamed while the job ran"
    assert all(1 <= p["step"] <= p["steps"] and p["loss"] > 0 for p in progress)


def test_a_queued_job_is_cancelled_at_once_and_never_runs(service: Service, cancelled_run: dict):
    response = cancelled_run["queued_cancel"]
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    after = cancelled_run["queued_after"]
    assert [t["status"] for t in after["transitions"]] == ["queued", "cancelled"]
    assert service.client.get(f"/v1/jobs/{after['id']}/history").json()["epochs"] == []


def test_cancelling_a_finished_job_is_a_409_naming_its_state(service: Service, cancelled_run: dict):
    response = service.client.post(f"/v1/jobs/{cancelled_run['job']['id']}/cancel")
    assert response.status_code == 409
    assert "'cancelled'" in response.json()["detail"]
