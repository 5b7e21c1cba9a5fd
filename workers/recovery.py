"""The worker's side of crash recovery: heartbeats, checkpoints, the time limit, resuming.

Like workers/progress.py these are plain objects handed to the fit loop; none may fail the job
because of a database hiccup, except a checkpoint that cannot be stored, which fails loudly.

Each is bound to the worker's ``Attempt`` (workers/attempt.py). Once the sweep has taken the
job over, because this worker's heartbeat was late, a later attempt owns the job: this one's
writes are refused (``Attempt.holding``) and it stops with ``Superseded``.
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from datetime import datetime
from pathlib import Path

from models import Job
from models.base import utcnow
from services import recovery, trained_models
from services.artifacts import ArtifactStore
from workers.attempt import Attempt

log = logging.getLogger(__name__)


class Heartbeat:
    """A daemon thread writing the job's ``heartbeat_at`` every ``interval`` seconds while the
    worker holds the job: loading data, training and exporting alike. It dies with the process,
    which is the point: silence means the worker is gone. A superseded attempt's beats are
    refused, so it never keeps the attempt that took over looking alive."""

    def __init__(self, attempt: Attempt) -> None:
        self._attempt = attempt
        self._interval = attempt.settings.heartbeat_seconds
        self._stop = threading.Event()
        # In the job's log context, so that its warnings name the job (core/logs.py).
        self._thread = threading.Thread(
            target=contextvars.copy_context().run, args=(self._run,), name="heartbeat", daemon=True
        )

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(self._interval + 5)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self._attempt.beat()
            except Exception:
                log.warning(
                    "could not write job %s's heartbeat", self._attempt.job_id, exc_info=True
                )


class CheckpointWriter:
    """``on_checkpoint(folder, epoch)``: store the checkpoint, then point the job at it.

    Keys name the attempt (``<job>/checkpoint/a<attempt>-epoch-<NNNN>.keras`` and ``.json``),
    so two attempts never write the same key, and the pointer moves only while this attempt
    holds the job. The checkpoint the job pointed at before (this attempt's previous one, or
    the one it resumed from) is deleted only once the pointer has moved past it under this
    attempt's hold: no later attempt had claimed the job, so none can be loading it.
    Checkpoints written before keys named the attempt (``epoch-<NNNN>``) resume as before,
    through the pointer, which holds the whole key."""

    def __init__(self, attempt: Attempt, resumed_from: str | None = None) -> None:
        self._attempt = attempt
        self._store = attempt.store
        self._job_id = attempt.job_id
        self._previous = [resumed_from, checkpoint_state_key(resumed_from)] if resumed_from else []

    def __call__(self, folder: Path, epoch: int) -> None:
        from training.keras.checkpoints import MODEL_FILE, STATE_FILE

        self._attempt.check_held()  # nothing stored for nothing
        stem = checkpoint_stem(self._job_id, self._attempt.number, epoch)
        state_key = self._store.put_file(f"{stem}.json", folder / STATE_FILE)
        model_key = self._store.put_file(f"{stem}.keras", folder / MODEL_FILE)
        # Taken over while storing (Superseded): the files just written are nobody's resume
        # point; the job's own end removes its whole checkpoint folder. Delete nothing here.
        with self._attempt.holding(checkpoint_epoch=epoch, checkpoint_key=model_key):
            pass  # the job points at the new checkpoint
        self._forget(self._previous)
        self._previous = [model_key, state_key]

    def discard(self) -> None:
        """The job ended with its model stored: its checkpoints are no longer needed (nothing
        resumes a finished job, and its model's files live in their attempt's folder,
        ``<job>/a<attempt>/``, beside the checkpoint folder, not in it). Best effort: a
        checkpoint left behind costs space, so a failure is only logged."""
        try:
            removed = self._store.delete(f"{self._job_id}/checkpoint")
            with self._attempt.session() as session:
                recovery.forget_checkpoint(session, self._job_id)
        except Exception:
            log.warning("could not delete job %s's checkpoints", self._job_id, exc_info=True)
            return
        log.info("job %s: deleted its %s checkpoint file(s)", self._job_id, removed)

    def _forget(self, keys: list[str]) -> None:
        """Keep only the latest checkpoint: the job now points at the newer one."""
        for key in keys:
            try:
                self._store.delete(key)
            except Exception:
                log.warning("could not delete old checkpoint %s", key, exc_info=True)


def discard_unregistered_model(attempt: Attempt) -> None:
    """Delete the model files a superseded attempt stored in its own folder: registering them
    was refused (it is conditional on holding the job), so nothing will read them. Only this
    attempt's folder goes, and not if the job's registered model points into it. Best effort:
    files left behind cost space, so a failure is only logged."""
    job_id = attempt.job_id
    folder = trained_models.files_folder(job_id, attempt.number)
    try:
        with attempt.session() as session:
            if recovery.registers_files_in(session, job_id, folder):
                return
        removed = attempt.store.delete(folder)
    except Exception:
        log.warning("could not delete %s's unregistered model files", folder, exc_info=True)
        return
    if removed:
        number = attempt.number
        log.info("job %s: deleted the %s model file(s) attempt %s stored", job_id, removed, number)


def resume_point(store: ArtifactStore, job: Job):  # type: ignore[no-untyped-def]
    """The ``Resume`` for a job that has a checkpoint, or None to start from scratch."""
    if job.checkpoint_key is None:
        return None
    from training.keras.checkpoints import Resume

    state = checkpoint_state_key(job.checkpoint_key)
    return Resume.load(store.local_path(job.checkpoint_key), store.local_path(state))


def checkpoint_state_key(model_key: str) -> str:
    """The ``state.json`` stored beside a checkpoint's ``.keras`` file."""
    return model_key.removesuffix(".keras") + ".json"


def checkpoint_stem(job_id: str, attempt: int, epoch: int) -> str:
    """The key, less its suffix, of attempt ``attempt``'s checkpoint after ``epoch``."""
    return f"{job_id}/checkpoint/a{attempt}-epoch-{epoch:04d}"


class Deadline:
    """``should_stop`` part for the job's wall-clock limit, counted from its first start."""

    def __init__(self, started_at: datetime | None, limit_seconds: float) -> None:
        elapsed = (utcnow() - started_at).total_seconds() if started_at else 0.0
        self._ends = time.monotonic() + limit_seconds - elapsed
        self.limit_seconds = limit_seconds
        self.passed = False

    def __call__(self) -> bool:
        self.passed = self.passed or time.monotonic() >= self._ends
        return self.passed

    def reason(self, checkpoint_epoch: int | None) -> str:
        kept = (
            f"its checkpoint after epoch {checkpoint_epoch} is kept in the artifact store"
            if checkpoint_epoch
            else "no epoch had finished"
        )
        return (
            f"the job ran past its time limit of {self.limit_seconds:g} seconds and was stopped "
            f"after its current batch; {kept}. Raise DESCENT_JOB_TIME_LIMIT_SECONDS, or ask for "
            "fewer epochs, a smaller dataset.limit or a smaller model"
        )


OUT_OF_MEMORY = ("ResourceExhaustedError", "OutOfMemoryError", "MemoryError")


def out_of_memory(exc: BaseException) -> str | None:
    """The advice for a job that ran out of memory, or None if ``exc`` is something else."""
    names = {cls.__name__ for cls in type(exc).__mro__}
    if not names.intersection(OUT_OF_MEMORY) and "out of memory" not in str(exc).lower():
        return None
    return (
        f"the job ran out of memory ({type(exc).__name__}: {str(exc).strip()[:300]}); "
        "submit it again with a smaller batch_size, a smaller model (fewer or narrower layers) "
        "or a smaller dataset.limit, or run it on a worker with more memory"
    )
