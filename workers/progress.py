"""The worker's side of live progress and cancellation: plain callables for the fit loop.

Each opens a short transaction of its own, so a listener sees progress as it happens and the
API's cancel is seen within ``CANCEL_CHECK_SECONDS``. Neither the cancel check nor the progress
events may fail the job: a database hiccup costs one progress event or one check, not the
training. The epoch's row is another matter (``EpochRecorder``).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from services import epochs, events, jobs
from workers import metrics
from workers.attempt import Attempt, Superseded

log = logging.getLogger(__name__)

# The fit loop asks after every batch; the database is read at most this often.
CANCEL_CHECK_SECONDS = 0.2


class CancelCheck:
    """``should_stop()`` for the fit loop: true once the job's status is no longer running, or
    once the job was taken over and claimed by a later attempt than this worker's."""

    def __init__(self, attempt: Attempt) -> None:
        self._attempt = attempt
        self._checked_at = 0.0
        self._stop = False

    def __call__(self) -> bool:
        now = time.monotonic()
        if self._stop or now - self._checked_at < CANCEL_CHECK_SECONDS:
            return self._stop
        self._checked_at = now
        try:
            with self._attempt.session() as session:
                self._stop = jobs.should_stop(session, self._attempt.job_id, self._attempt.number)
        except Exception:
            log.warning(
                "could not read job %s's status; training on", self._attempt.job_id, exc_info=True
            )
        return self._stop


class ProgressRecorder:
    """``on_batch(epoch, step, steps, loss)`` for the fit loop: one progress event per call,
    none once the job was taken over by a later attempt (that one reports its own)."""

    def __init__(self, attempt: Attempt) -> None:
        self._attempt = attempt

    def __call__(self, epoch: int, step: int, steps: int | None, loss: float | None) -> None:
        metrics.gpu_memory()
        job_id = self._attempt.job_id
        try:
            with self._attempt.holding() as session:
                events.progress(session, job_id, epoch=epoch, step=step, steps=steps, loss=loss)
        except Superseded:
            return
        except Exception:
            log.warning("could not record job %s's progress", job_id, exc_info=True)


class EpochRecorder:
    """``on_epoch(epoch, seconds, logs)`` for the fit loop: the epoch's row, its layer health
    included, written while the attempt holds the job; ``Superseded`` (stopping the fit) once
    it does not. Unlike progress, a failed write fails the job: its history would have a hole.
    Each epoch after epoch 0 (the untrained model, evaluated) also counts in the worker's
    metrics as ``rows`` samples."""

    def __init__(self, attempt: Attempt, rows: int = 0) -> None:
        self._attempt = attempt
        self._rows = rows

    def __call__(self, epoch: int, seconds: float, logs: dict[str, Any]) -> None:
        patience = self._attempt.settings.overfitting_patience
        with self._attempt.holding() as session:
            epochs.record(session, self._attempt.job_id, epoch, seconds, logs, patience=patience)
        if epoch > 0:
            metrics.epoch_ended(self._attempt.queue, seconds, self._rows)
        metrics.gpu_memory()
