"""A worker whose heartbeat was late, not dead: the sweep gives its job to a new attempt while the
old one still trains. The old attempt must stop without touching the job; the new one resumes
from the last checkpoint and finishes it."""

import hashlib
import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from api.app import create_app
from core.settings import Settings
from models import Job, JobEvent
from models.base import utcnow
from models.db import session_scope
from services import jobs, recovery, trained_models, weights
from services.artifacts import ArtifactStore, LocalArtifactStore, get_store
from services.queue import Broker
from tests.workers.test_tasks import (
    MODEL_NAMES,
    load,
    model_files,
    served,
    stored_under,
    submit_line,
)
from training.spec import JobSpec
from workers import tasks
from workers.attempt import Attempt, Superseded
from workers.recovery import CheckpointWriter, Deadline

EPOCHS = 4


def take_over(job_id: str, *, claim: bool = True) -> None:
    """What the sweep does to a job whose worker's heartbeat is late: it queues the job again;
    then another worker claims it, as the next attempt."""
    settings = Settings()
    later = utcnow() + timedelta(seconds=settings.heartbeat_timeout_seconds + 1)
    with session_scope(settings.resolved_database_url) as session:
        assert recovery.sweep(session, settings, Broker(settings), later).resumed == [job_id]
    if claim:
        with session_scope(settings.resolved_database_url) as session:
            assert jobs.claim(session, job_id)


def state(job_id: str) -> dict[str, Any]:
    """Everything a worker may write for the job: its row, epochs, events and stored files."""
    job, history = load(job_id)
    folder = Settings().resolved_artifacts_dir / job_id
    with session_scope(Settings().resolved_database_url) as session:
        events = session.scalars(select(JobEvent.id).where(JobEvent.job_id == job_id)).all()
    return {
        "job": {
            key: getattr(job, key)
            for key in ("status", "attempts", "checkpoint_epoch", "checkpoint_key", "best_epoch")
        },
        "transitions": [t.status for t in job.transitions],
        "epochs": [(row.epoch, row.loss, row.seconds) for row in history],
        "events": list(events),
        "files": {
            name: hashlib.sha256((folder / name).read_bytes()).hexdigest()
            for name in stored_under(job_id)
        },
    }


def test_a_worker_taken_over_between_epochs_stops_and_the_next_attempt_finishes_the_job(
    home: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.INFO, logger="workers.tasks")
    job_id = submit_line(epochs=EPOCHS)
    checkpointed: list[int] = []
    at_takeover: dict[str, Any] = {}

    class TakenOverAfterEpoch2(CheckpointWriter):
        def __call__(self, folder: Path, epoch: int) -> None:
            super().__call__(folder, epoch)
            checkpointed.append(epoch)
            if epoch == 2:  # the heartbeat was late: attempt 2 claims the job mid-fit
                take_over(job_id)
                at_takeover.update(state(job_id))

    with monkeypatch.context() as patched:
        patched.setattr(tasks, "CheckpointWriter", TakenOverAfterEpoch2)
        tasks.run_job(job_id, Settings())  # attempt 1

    taken_over = at_takeover["job"]
    assert (taken_over["status"], taken_over["attempts"]) == ("running", 2)
    assert taken_over["checkpoint_key"] == f"{job_id}/checkpoint/a1-epoch-0002.keras"
    assert sorted(at_takeover["files"]) == [
        "checkpoint/a1-epoch-0002.json",
        "checkpoint/a1-epoch-0002.keras",
    ]
    assert checkpointed == [1, 2]  # attempt 1 stopped in epoch 3 ...
    assert state(job_id) == at_takeover  # ... and wrote, deleted, and ended nothing after
    assert "attempt 1 was superseded" in caplog.text

    with session_scope(Settings().resolved_database_url) as session:
        job = jobs.get(session, job_id)
        spec = JobSpec.model_validate(job.spec)
        deadline = Deadline(job.started_at, Settings().job_time_limit_seconds)
    tasks.train_claimed(Attempt(job_id, 2, Settings(), get_store(Settings())), spec, deadline)

    job, history = load(job_id)
    assert (job.status, job.error, job.attempts) == ("succeeded", None, 2)
    assert [row.epoch for row in history] == list(range(EPOCHS + 1))  # each epoch once
    # Epochs 0-2 are attempt 1's rows: attempt 2 resumed after its checkpoint of epoch 2.
    assert [(r.epoch, r.loss, r.seconds) for r in history[:3]] == at_takeover["epochs"]
    assert f"job {job_id} resumes after epoch 2 (attempt 2)" in caplog.text
    assert stored_under(job_id) == model_files(attempt=2)  # the model; the checkpoints are gone
    with session_scope(Settings().resolved_database_url) as session:
        assert trained_models.get(session, job_id).onnx_key == f"{job_id}/a2/model.onnx"


class Killed(BaseException):
    """The worker process dies: nothing it would do on the way out runs."""


def test_a_checkpoint_stored_under_the_old_key_format_still_resumes(
    home: Path, monkeypatch: pytest.MonkeyPatch
):
    job_id = submit_line(epochs=EPOCHS)

    class DiesAfterEpoch2(CheckpointWriter):
        def __call__(self, folder: Path, epoch: int) -> None:
            super().__call__(folder, epoch)
            if epoch == 2:
                raise Killed

    with monkeypatch.context() as patched, pytest.raises(Killed):
        patched.setattr(tasks, "CheckpointWriter", DiesAfterEpoch2)
        tasks.run_job(job_id, Settings())
    # Checkpoints written before keys named the attempt were <job>/checkpoint/epoch-NNNN.*
    checkpoints = Settings().resolved_artifacts_dir / job_id / "checkpoint"
    for suffix in (".keras", ".json"):
        (checkpoints / f"a1-epoch-0002{suffix}").rename(checkpoints / f"epoch-0002{suffix}")
    with session_scope(Settings().resolved_database_url) as session:
        old_key = f"{job_id}/checkpoint/epoch-0002.keras"
        session.execute(update(Job).where(Job.id == job_id).values(checkpoint_key=old_key))

    take_over(job_id, claim=False)
    tasks.run_job(job_id, Settings())  # attempt 2

    job, history = load(job_id)
    assert (job.status, job.error, job.attempts) == ("succeeded", None, 2)
    assert [row.epoch for row in history] == list(range(EPOCHS + 1))
    assert stored_under(job_id) == model_files(attempt=2)


def test_a_job_whose_worker_died_after_its_last_checkpoint_is_finished_by_the_next_attempt(
    home: Path, monkeypatch: pytest.MonkeyPatch
):
    job_id = submit_line(epochs=EPOCHS)

    class DiesAfterTheLastEpoch(CheckpointWriter):  # e.g. while exporting the model
        def __call__(self, folder: Path, epoch: int) -> None:
            super().__call__(folder, epoch)
            if epoch == EPOCHS:
                raise Killed

    with monkeypatch.context() as patched, pytest.raises(Killed):
        patched.setattr(tasks, "CheckpointWriter", DiesAfterTheLastEpoch)
        tasks.run_job(job_id, Settings())
    take_over(job_id, claim=False)
    tasks.run_job(job_id, Settings())  # attempt 2: no epoch left to train, only the export

    job, history = load(job_id)
    assert (job.status, job.error, job.attempts) == ("succeeded", None, 2)
    assert [row.epoch for row in history] == list(range(EPOCHS + 1))
    assert job.final_metrics["loss"] == history[-1].loss
    with TestClient(create_app(Settings())) as api:
        assert isinstance(served(api, job_id)["value"], float)


def test_a_checkpoint_stored_by_a_superseded_attempt_moves_no_pointer_and_deletes_nothing(
    home: Path, tmp_path: Path
):
    job_id = submit_line(epochs=EPOCHS)
    url = Settings().resolved_database_url
    with session_scope(url) as session:
        assert jobs.claim(session, job_id)
    folder = tmp_path / "checkpoint"
    folder.mkdir()
    (folder / "model.keras").write_bytes(b"weights")
    (folder / "state.json").write_text("{}")

    class TakenOverWhileStoring(LocalArtifactStore):
        """The real store; attempt 1's heartbeat is late while it uploads epoch 3's files."""

        def put_file(self, key: str, source: Path) -> str:
            stored = super().put_file(key, source)
            if key.endswith("a1-epoch-0003.json"):
                take_over(job_id)
            return stored

    store = get_store(Settings())
    first = CheckpointWriter(Attempt(job_id, 1, Settings(), TakenOverWhileStoring(store.root)))
    first(folder, 1)
    first(folder, 2)
    with pytest.raises(Superseded):
        first(folder, 3)

    resume_key = f"{job_id}/checkpoint/a1-epoch-0002.keras"
    job, _ = load(job_id)
    assert (job.checkpoint_epoch, job.checkpoint_key) == (2, resume_key)
    assert stored_under(job_id) == [  # epoch 2's, which attempt 2 resumes from, is still there
        "checkpoint/a1-epoch-0002.json",
        "checkpoint/a1-epoch-0002.keras",
        "checkpoint/a1-epoch-0003.json",
        "checkpoint/a1-epoch-0003.keras",
    ]

    second = CheckpointWriter(Attempt(job_id, 2, Settings(), store), resumed_from=resume_key)
    second(folder, 3)
    job, _ = load(job_id)
    assert (job.checkpoint_epoch, job.checkpoint_key) == (
        3,
        f"{job_id}/checkpoint/a2-epoch-0003.keras",
    )
    assert "checkpoint/a1-epoch-0002.keras" not in stored_under(job_id)  # once pointed past
    assert "checkpoint/a2-epoch-0003.keras" in stored_under(job_id)


class Recorded:
    """The real store, noting every key written to it."""

    def __init__(self, store: ArtifactStore) -> None:
        self.store = store
        self.puts: list[str] = []

    def put_file(self, key: str, source: Path) -> str:
        self.puts.append(key)
        return self.store.put_file(key, source)

    def local_path(self, key: str) -> Path:
        return self.store.local_path(key)

    def delete(self, key: str) -> int:
        return self.store.delete(key)


def test_an_attempt_that_stalls_before_uploading_never_replaces_the_registered_models_files(
    home: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.INFO, logger="workers.recovery")
    job_id = submit_line(epochs=EPOCHS)
    url = Settings().resolved_database_url
    store = Recorded(get_store(Settings()))
    monkeypatch.setattr(tasks, "get_store", lambda settings: store)
    registered: dict[str, str] = {}  # key -> sha256, once attempt 2 has registered the model
    exported: list[int] = []

    def export_model(*args: Any, **kwargs: Any) -> Any:
        exported.append(1)
        return real_export(*args, **kwargs)

    def check_then_stall(attempt: Attempt) -> None:
        real_check_held(attempt)
        if attempt.number == 1 and exported and not registered:
            # Attempt 1 passed its last check before uploading, then stalled past the
            # heartbeat timeout: attempt 2 claims the job and finishes it meanwhile.
            take_over(job_id)
            with session_scope(url) as session:
                job_row = jobs.get(session, job_id)
                spec = JobSpec.model_validate(job_row.spec)
                deadline = Deadline(job_row.started_at, Settings().job_time_limit_seconds)
            tasks.train_claimed(Attempt(job_id, 2, Settings(), store), spec, deadline)
            with session_scope(url) as session:
                model = trained_models.get(session, job_id)
                keys = [model.keras_key, model.onnx_key, weights.weights_key(model.keras_key)]
            registered.update({key: sha256(store.local_path(key)) for key in keys})
            store.puts.clear()

    from training.keras import export

    real_export, real_check_held = export.export_model, Attempt.check_held
    monkeypatch.setattr(export, "export_model", export_model)
    monkeypatch.setattr(Attempt, "check_held", check_then_stall)
    tasks.run_job(job_id, Settings())  # attempt 1, which stalls after its check

    # Attempt 1 did upload its model after attempt 2 had registered one ...
    assert [key.rsplit("/", 1)[1] for key in store.puts] == MODEL_NAMES
    # ... and the files the registered model points at are attempt 2's, byte for byte.
    assert {key: sha256(store.local_path(key)) for key in registered} == registered
    assert not set(store.puts) & set(registered)
    # Each attempt wrote to its own folder; attempt 1, refused the registration, deleted its.
    assert sorted(registered) == [f"{job_id}/a2/{name}" for name in MODEL_NAMES]
    assert store.puts == [f"{job_id}/a1/{name}" for name in MODEL_NAMES]
    assert stored_under(job_id) == model_files(attempt=2)
    assert "deleted the 3 model file(s) attempt 1 stored" in caplog.text
    job, _ = load(job_id)
    assert (job.status, job.attempts) == ("succeeded", 2)
    with TestClient(create_app(Settings())) as api:
        download = api.get(f"/v1/models/{job_id}/download", params={"format": "onnx"})
        assert hashlib.sha256(download.content).hexdigest() == registered[f"{job_id}/a2/model.onnx"]
        assert isinstance(served(api, job_id)["value"], float)
        assert api.get(f"/v1/models/{job_id}/weights").status_code == 200


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
