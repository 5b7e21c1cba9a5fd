"""Things really break: a worker is SIGKILLed mid-job and the server restarts; nothing is lost.

The service runs with fast heartbeats and sweeps, so a dead worker is noticed within about twenty
seconds; not sooner, so that a live worker starved of CPU on a loaded machine is not taken over
for its silence (an attempt the test did not cause). The job is long enough to be killed after
its first checkpoint and still be running when the server restarts; it must then succeed with
each epoch in its history exactly once.
"""

import os
import signal
import time
from pathlib import Path

import pytest

from tests.conftest import Backend
from tests.factories import job_spec
from tests.harness import Service, start_service, stop_service

pytestmark = pytest.mark.integration

EPOCHS = 8
FAST_RECOVERY = {
    "DESCENT_HEARTBEAT_SECONDS": "0.5",
    "DESCENT_HEARTBEAT_TIMEOUT_SECONDS": "20",
    "DESCENT_RECONCILE_SECONDS": "1",
}
SPEC = job_spec(name="survivor", limit=6000, units=128, epochs=EPOCHS, batch_size=32)


def children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def wait_until(service: Service, job_id: str, check, what: str, timeout: float = 240) -> dict:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = service.client.get(f"/v1/jobs/{job_id}").json()
        if check(job):
            return job
        assert job["status"] not in ("failed", "cancelled"), job
        time.sleep(0.2)
    raise AssertionError(f"{what} did not happen in {timeout}s; log: {service.log}")


def test_a_killed_worker_and_a_restarted_server_lose_no_epoch(tmp_path: Path, backend: Backend):
    home = tmp_path / "home"
    service = start_service(home, **FAST_RECOVERY, **backend(home))
    try:
        job_id = service.client.post("/v1/jobs", json=SPEC).json()["id"]
        wait_until(service, job_id, lambda j: (j["checkpoint_epoch"] or 0) >= 1, "a checkpoint")

        # SIGKILL the pool child training the job (the worker's grandchildren of the server).
        (celery,) = children(service.pid)
        trainers = children(celery)
        assert trainers
        for pid in trainers:
            os.kill(pid, signal.SIGKILL)
        resumed = wait_until(
            service, job_id, lambda j: j["attempts"] >= 2 or j["status"] == "succeeded", "resume"
        )
        assert resumed["attempts"] >= 2  # resumed, not finished by the killed attempt

        # Restart the whole server (API and worker) while the job may still be training.
        stop_service(service)
        service = start_service(home, **FAST_RECOVERY, **backend(home))
        job = service.wait_for_job(job_id, timeout=300)
        history = service.client.get(f"/v1/jobs/{job_id}/history").json()["epochs"]
        model = service.client.get(f"/v1/models/{job_id}")
    finally:
        stop_service(service)

    assert job["status"] == "succeeded", job["error"]
    assert 2 <= job["attempts"] <= 3
    assert [row["epoch"] for row in history] == list(range(EPOCHS + 1))  # each epoch once
    assert model.status_code == 200
    assert job["final_metrics"]["val_accuracy"] > 0.5
