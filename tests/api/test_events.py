"""The event stream: status changes, epochs and progress in order; resuming; ending.

Events are written by the same service calls the worker makes, on a real database.
"""

import threading
from collections.abc import Callable, Iterator

from fastapi.testclient import TestClient

from core.settings import Settings
from models.db import session_scope
from services import epochs, events, jobs
from tests.api.conftest import MNIST_SPEC
from tests.sse import Event, parse


def as_worker(action, *args, **kwargs):
    with session_scope(Settings().resolved_database_url) as session:
        return action(session, *args, **kwargs)


def train_two_epochs(job_id: str) -> None:
    as_worker(jobs.claim, job_id)
    as_worker(epochs.record, job_id, 0, 0.5, {"loss": 2.3, "val_loss": 2.3, "accuracy": 0.1})
    as_worker(events.progress, job_id, epoch=1, step=5, steps=10, loss=1.2)
    as_worker(epochs.record, job_id, 1, 1.5, {"loss": 0.5, "val_loss": 0.6, "accuracy": 0.8})


def listen(client: TestClient, job_id: str, last_event_id: int | None = None) -> Iterator[Event]:
    """The job's events as they arrive, until the stream ends."""
    headers = {} if last_event_id is None else {"Last-Event-ID": str(last_event_id)}
    with client.stream("GET", f"/v1/jobs/{job_id}/events", headers=headers) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        yield from parse(response.iter_lines())


def read(client: TestClient, job_id: str, last_event_id: int | None = None) -> list[Event]:
    return list(listen(client, job_id, last_event_id))


def read_ending_the_job_after(
    client: TestClient, job_id: str, kind: str, end: Callable[[], object]
) -> list[Event]:
    """Read the whole stream; ``end()`` runs (on another thread) once an event of ``kind`` was
    read, so that the stream can end: a running job's stream does not. Without such an event,
    ``end()`` runs after a minute, and the stream ends without it."""
    seen = threading.Event()

    def ender() -> None:
        seen.wait(60)
        end()

    thread = threading.Thread(target=ender)
    thread.start()
    received = []
    try:
        for event in listen(client, job_id):
            received.append(event)
            if event.kind == kind:
                seen.set()
    finally:
        seen.set()  # a reader that failed leaves no thread waiting
        thread.join()
    return received


def summary(stream: list[Event]) -> list[tuple[str, object]]:
    return [(e.kind, e.data.get("status", e.data.get("epoch"))) for e in stream]


def test_a_finished_jobs_events_replay_in_order_and_the_stream_ends(client: TestClient):
    job_id = client.post("/v1/jobs", json=MNIST_SPEC).json()["id"]
    train_two_epochs(job_id)
    as_worker(jobs.succeed, job_id, {"loss": 0.5})

    stream = read(client, job_id)
    assert summary(stream) == [
        ("status", "queued"),
        ("status", "running"),
        ("epoch", 0),
        ("epoch", 1),
        ("status", "succeeded"),
    ]  # progress is transient: gone once the job has ended
    ids = [e.id for e in stream]
    assert ids == sorted(set(ids))


def test_an_epoch_event_carries_the_history_row(client: TestClient):
    job_id = client.post("/v1/jobs", json=MNIST_SPEC).json()["id"]
    train_two_epochs(job_id)
    as_worker(jobs.succeed, job_id, {"loss": 0.5})
    rows = client.get(f"/v1/jobs/{job_id}/history").json()["epochs"]
    assert [e.data for e in read(client, job_id) if e.kind == "epoch"] == rows
    assert rows[1]["best_epoch"] == 1


def test_last_event_id_resumes_without_loss_or_duplicates(client: TestClient):
    job_id = client.post("/v1/jobs", json=MNIST_SPEC).json()["id"]
    train_two_epochs(job_id)
    as_worker(jobs.fail, job_id, "RuntimeError: out of memory")
    everything = read(client, job_id)
    for cut in range(1, len(everything)):
        assert read(client, job_id, last_event_id=everything[cut - 1].id) == everything[cut:]
    assert everything[-1].data["error"] == "RuntimeError: out of memory"


def test_a_live_stream_gets_events_as_they_happen_and_ends_with_the_job(client: TestClient):
    job_id = client.post("/v1/jobs", json=MNIST_SPEC).json()["id"]

    def worker() -> None:  # only once the stream has sent "queued": it is open and waiting
        train_two_epochs(job_id)
        as_worker(jobs.succeed, job_id, {"loss": 0.5})

    stream = read_ending_the_job_after(client, job_id, "status", worker)
    assert summary(stream)[-1] == ("status", "succeeded")
    assert ("epoch", 1) in summary(stream)


def test_progress_is_streamed_while_the_job_runs(client: TestClient):
    job_id = client.post("/v1/jobs", json=MNIST_SPEC).json()["id"]
    train_two_epochs(job_id)
    # Failing the job deletes its progress events: only once the reader has had its progress.
    stream = read_ending_the_job_after(
        client, job_id, "progress", lambda: as_worker(jobs.fail, job_id, "stopped by the test")
    )
    progress = [e.data for e in stream if e.kind == "progress"]
    assert progress == [{"epoch": 1, "step": 5, "steps": 10, "loss": 1.2}]
    assert read(client, job_id)[-1].data["status"] == "failed"
    assert "progress" not in {e.kind for e in read(client, job_id)}


def test_resuming_after_the_last_event_of_a_finished_job_is_a_204(client: TestClient):
    job_id = client.post("/v1/jobs", json=MNIST_SPEC).json()["id"]
    client.post(f"/v1/jobs/{job_id}/cancel")
    last = read(client, job_id)[-1]
    assert last.data["status"] == "cancelled"
    response = client.get(f"/v1/jobs/{job_id}/events", headers={"Last-Event-ID": str(last.id)})
    assert response.status_code == 204  # an EventSource stops reconnecting


def test_events_of_an_unknown_job_are_a_404(client: TestClient):
    response = client.get("/v1/jobs/nope/events")
    assert response.status_code == 404
    assert "nope" in response.json()["detail"]


def test_a_last_event_id_that_is_not_a_number_is_a_422(client: TestClient):
    job_id = client.post("/v1/jobs", json=MNIST_SPEC).json()["id"]
    response = client.get(f"/v1/jobs/{job_id}/events", headers={"Last-Event-ID": "soon"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "last-event-id"
