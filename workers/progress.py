"""The worker's side of live progress and cancellation: plain callables for the fit loop.

Both open a short transaction of their own, so a listener sees progress as it happens and the
API's cancel is seen within ``CANCEL_CHECK_SECONDS``. Neither may fail the job: a database
hiccup costs one progress event or one check, not the training.
"""

from __future__ import annotations

import logging
import time

from models.db import session_scope
from services import events, jobs, recovery

log = logging.getLogger(__name__)

# The fit loop asks after every batch; the database is read at most this often.
CANCEL_CHECK_SECONDS = 0.2


class CancelCheck:
    """``should_stop()`` for the fit loop: true once the job's status is no longer running, or
    once the job was taken over and claimed by a later attempt than this worker's."""

    def __init__(self, database_url: str, job_id: str, attempt: int) -> None:
        self._url = database_url
        self._job_id = job_id
        self._attempt = attempt
        self._checked_at = 0.0
        self._stop = False

    def __call__(self) -> bool:
        now = time.monotonic()
        if self._stop or now - self._checked_at < CANCEL_CHECK_SECONDS:
            return self._stop
        self._checked_at = now
        try:
            with session_scope(self._url) as session:
                self._stop = jobs.should_stop(session, self._job_id, self._attempt)
        except Exception:
            log.warning("could not read job %s's status; training on", self._job_id, exc_info=True)
        return self._stop


class ProgressRecorder:
    """``on_batch(epoch, step, steps, loss)`` for the fit loop: one progress event per call,
    none once the job was taken over by a later attempt (that one reports its own)."""

    def __init__(self, database_url: str, job_id: str, attempt: int) -> None:
        self._url = database_url
        self._job_id = job_id
        self._attempt = attempt

    def __call__(self, epoch: int, step: int, steps: int | None, loss: float | None) -> None:
        try:
            with session_scope(self._url) as session:
                if not recovery.hold(session, self._job_id, self._attempt):
                    return
                events.progress(
                    session, self._job_id, epoch=epoch, step=step, steps=steps, loss=loss
                )
        except Exception:
            log.warning("could not record job %s's progress", self._job_id, exc_info=True)
