"""``descent submit --watch`` follows the job's event stream: each epoch is printed once as it
is recorded, across a restart of the API; an epoch trained again after a resume is printed again,
marked, and replaces the earlier one; Ctrl-C stops the watching, not the job.

No worker runs: the test records the job's progress with the service calls a worker makes."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from core.settings import PROJECT_ROOT
from descent.client import Client
from descent.watch import stream_job
from models import JobStatus
from models.base import utcnow
from services import epochs, jobs
from tests.api.conftest import MNIST_SPEC
from tests.conftest import Backend, Service, as_worker, free_port, start_service, stop_service

pytestmark = pytest.mark.integration

EPOCHS = 3
LINE_SECONDS = 60


class Watch:
    """``descent submit SPEC --watch`` in a subprocess, its output read line by line; as a
    context manager, killed on the way out if it has not ended (a failed wait, a timeout)."""

    def __init__(self, service: Service, spec: Path) -> None:
        env = {**os.environ, "DESCENT_URL": service.url, "PYTHONUNBUFFERED": "1"}
        env["COLUMNS"] = "200"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "descent.cli", "submit", str(spec), "--watch"],
            cwd=PROJECT_ROOT, env=env, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            # Ctrl-C as a terminal sends it, even where the tests were started in the background
            # (`&` in a script leaves SIGINT ignored, and an ignored signal stays so in children).
            preexec_fn=_default_sigint,
        )  # fmt: skip
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def __enter__(self) -> Watch:
        return self

    def __exit__(self, *_: object) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for(self, start: str) -> str:
        """The next line that starts with ``start`` (the lines before it are kept too)."""
        deadline = time.monotonic() + LINE_SECONDS
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self._queue.get(timeout=left)
            except queue.Empty:
                break  # out of time: say so below, with what the watch printed
            if line is None:
                break
            self.lines.append(line)
            if line.startswith(start):
                return line
        raise AssertionError(f"no line starting {start!r}; the output was:\n" + self.output)

    def finish(self) -> int:
        """The watch's exit status, once it has ended and all it printed is in ``lines``."""
        deadline = time.monotonic() + LINE_SECONDS
        try:
            while (line := self._queue.get(timeout=_left(deadline))) is not None:
                self.lines.append(line)
            return self.process.wait(_left(deadline))
        except (queue.Empty, subprocess.TimeoutExpired):
            raise AssertionError("the watch did not end; the output was:\n" + self.output) from None

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def job_id(self) -> str:
        return self.wait_for("submitted job ").split()[2]


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _left(deadline: float) -> float:
    return max(0.0, deadline - time.monotonic())


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    path = tmp_path / "spec.json"
    path.write_text(json.dumps({**MNIST_SPEC, "epochs": EPOCHS}))
    return path


def record_epoch(service: Service, job_id: str, epoch: int, val_loss: float | None = None) -> None:
    loss = 2.0 / (epoch + 1)
    val_loss = loss + 0.1 if val_loss is None else val_loss
    logs = {"loss": loss, "accuracy": 0.3 * epoch, "val_loss": val_loss, "val_accuracy": 0.25}
    as_worker(service, epochs.record, job_id, epoch, 1.0, logs)


def lose_worker(service: Service, job_id: str, checkpoint_epoch: int) -> None:
    """What follows a worker's death: the recovery sweep puts the running job back in the
    queue, and the next worker claims it and drops the epochs past its checkpoint."""
    as_worker(
        service, jobs.move, job_id, JobStatus.running, JobStatus.queued, utcnow(),
        enqueued_at=utcnow(),
    )  # fmt: skip
    as_worker(service, jobs.claim, job_id)
    as_worker(service, epochs.forget_after, job_id, checkpoint_epoch)


def test_each_epoch_is_printed_once_as_it_comes_across_an_api_restart(
    tmp_path: Path, spec: Path, backend: Backend
):
    home, port = tmp_path / "home", free_port()
    service = start_service(home, worker=False, port=port, **backend(home))
    try:
        with Watch(service, spec) as watch:
            job_id = watch.job_id()
            as_worker(service, jobs.claim, job_id)
            watch.wait_for("status: running")
            for epoch in (0, 1):
                record_epoch(service, job_id, epoch)
                watch.wait_for(f"epoch {epoch}/{EPOCHS}")

            stop_service(service)  # the stream drops; the watch tries again until it answers
            record_epoch(service, job_id, 2)  # recorded while no API runs
            service = start_service(home, worker=False, port=port, **backend(home))
            watch.wait_for(f"epoch 2/{EPOCHS}")
            record_epoch(service, job_id, 3)
            as_worker(service, jobs.succeed, job_id, {"loss": 0.5, "val_loss": 0.6})
            assert watch.finish() == 0, watch.output
    finally:
        stop_service(service)

    lines = watch.lines
    epoch_lines = [i for i, line in enumerate(lines) if line.startswith("epoch ")]
    printed = [lines[i].split()[1] for i in epoch_lines]
    assert printed == [f"{epoch}/{EPOCHS}" for epoch in range(EPOCHS + 1)], watch.output
    assert lines.count("status: running") == 1 and lines.count("status: succeeded") == 1
    assert lines.index("status: succeeded") > epoch_lines[-1]
    assert "final val_loss" in watch.output and "0.6000" in watch.output


def test_ctrl_c_stops_the_watching_and_the_job_carries_on(api_only: Service, spec: Path):
    with Watch(api_only, spec) as watch:
        job_id = watch.job_id()
        time.sleep(2)  # the watch is reading the event stream by now
        watch.process.send_signal(signal.SIGINT)
        assert watch.finish() == 130, watch.output
    assert f"stopped watching job {job_id}; it carries on" in watch.output
    assert f"descent cancel {job_id}" in watch.output
    assert "Traceback" not in watch.output
    assert api_only.client.get(f"/v1/jobs/{job_id}").json()["status"] == "queued"


def test_an_epoch_trained_again_after_a_resume_replaces_the_one_its_lost_worker_recorded(
    api_only: Service, spec: Path
):
    with Watch(api_only, spec) as watch:
        job_id = watch.job_id()
        as_worker(api_only, jobs.claim, job_id)
        watch.wait_for("status: running")
        for epoch, val_loss in ((0, 2.2), (1, 1.1), (2, 0.05)):  # the lost worker's epoch 2 is best
            record_epoch(api_only, job_id, epoch, val_loss)
            watch.wait_for(f"epoch {epoch}/{EPOCHS}")
        lose_worker(api_only, job_id, checkpoint_epoch=1)
        watch.wait_for("status: running")
        record_epoch(api_only, job_id, 2, val_loss=0.9)
        record_epoch(api_only, job_id, 3, val_loss=0.6)
        as_worker(api_only, jobs.succeed, job_id, {"val_loss": 0.6})
        assert watch.finish() == 0, watch.output

    epoch_lines = [line for line in watch.lines if line.startswith("epoch ")]
    assert [line.split()[1] for line in epoch_lines] == ["0/3", "1/3", "2/3", "2/3", "3/3"]
    rerun = [line for line in epoch_lines if "re-run after resume" in line]
    assert rerun == [epoch_lines[3]] and "val_loss 0.9000" in rerun[0], watch.output
    statuses = [line for line in watch.lines if line.startswith("status: ")]
    assert [line.split()[1] for line in statuses] == ["running", "queued", "running", "succeeded"]
    best = [line for line in watch.lines if "best val_loss" in line]
    assert len(best) == 1 and "0.6000 (epoch 3)" in best[0], watch.output


def test_a_watch_begun_on_a_running_job_tells_its_past_statuses_no_more(api_only: Service):
    job_id = api_only.client.post("/v1/jobs", json=MNIST_SPEC).json()["id"]
    as_worker(api_only, jobs.claim, job_id)
    for epoch in (0, 1):
        record_epoch(api_only, job_id, epoch)
    with Client(api_only.url) as client:
        updates = stream_job(client, job_id)
        seen = []
        for update in updates:  # the stream's replay of the log, as far as epoch 1
            seen.append(update)
            if [e.epoch for e in update.epochs] == [0, 1]:
                break
        updates.close()
    assert {update.job.status for update in seen} == {"running"}


def test_a_job_that_fails_after_a_resume_is_summarised_from_the_epochs_that_stand(
    api_only: Service, spec: Path
):
    """The resumed attempt fails before it trains epoch 2 again: the lost worker's epoch 2 is
    in no history, and the summary does not quote it."""
    with Watch(api_only, spec) as watch:
        job_id = watch.job_id()
        as_worker(api_only, jobs.claim, job_id)
        for epoch, val_loss in ((0, 2.2), (1, 1.1), (2, 0.05)):
            record_epoch(api_only, job_id, epoch, val_loss)
            watch.wait_for(f"epoch {epoch}/{EPOCHS}")
        lose_worker(api_only, job_id, checkpoint_epoch=1)
        as_worker(api_only, jobs.fail, job_id, "out of memory")
        assert watch.finish() == 1, watch.output

    best = [line for line in watch.lines if "best val_loss" in line]
    assert len(best) == 1 and "1.1000 (epoch 1)" in best[0], watch.output


def test_a_watch_still_running_when_its_test_ends_is_killed(api_only: Service, spec: Path):
    """The harness itself: a test that fails midway leaves no watcher on the session's API."""
    with Watch(api_only, spec) as watch:
        watch.job_id()
    assert watch.process.poll() is not None


def test_a_line_that_never_comes_fails_the_test_with_the_watchs_output(
    api_only: Service, spec: Path, monkeypatch: pytest.MonkeyPatch
):
    """The harness itself: waiting in vain reports what the watch printed instead."""
    with Watch(api_only, spec) as watch:
        job_id = watch.job_id()
        monkeypatch.setattr(sys.modules[__name__], "LINE_SECONDS", 1)
        with pytest.raises(AssertionError, match=f"submitted job {job_id}"):
            watch.wait_for("epoch 0/")  # no worker: the job stays queued


def test_the_client_tells_the_servers_204_from_a_stream_that_ends(api_only: Service):
    """Only a 204 says no event will follow; a stream may end because its API process stops."""
    job_id = api_only.client.post("/v1/jobs", json=MNIST_SPEC).json()["id"]
    as_worker(api_only, jobs.claim, job_id)
    as_worker(api_only, jobs.succeed, job_id, {"loss": 0.5})
    with Client(api_only.url) as client:
        whole = client.job_events(job_id)
        told = list(whole)
        rest = client.job_events(job_id, last_event_id=told[-1].id)
        assert list(rest) == [] and rest.done
    assert [event.data["status"] for event in told] == ["queued", "running", "succeeded"]
    assert not whole.done  # it ended after the job's final status
