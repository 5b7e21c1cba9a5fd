"""When the pool child training a job dies, its Celery parent says how it died.

A child killed by a signal writes nothing, but its Celery parent sees the exit at once
(``WorkerLostError``, "signal 6 (SIGABRT)"). On an earlier attempt the parent queues the job
again right away, to resume from its last checkpoint, instead of leaving it to the recovery
sweep, which would wait for the heartbeat to go silent. On the job's last attempt it fails the
job with that signal's meaning: SIGKILL is almost always the out-of-memory killer, SIGABRT or
SIGSEGV a crash that more memory will not fix (``services.recovery.died``). A whole worker
that vanishes (no parent left to see it) is still the sweep's.
"""

from __future__ import annotations

import logging
import re
import signal
from typing import Any

from billiard.exceptions import WorkerLostError
from celery.worker.request import Request

from core.settings import Settings
from models.db import get_engine, session_scope
from services import recovery
from services.queue import Broker

log = logging.getLogger(__name__)

SIGNAL = re.compile(r"\bsignal (\d+)")


def signal_name(exc: BaseException) -> str | None:
    """The signal that killed a pool child ("SIGABRT"), read from Celery's WorkerLostError
    ("Worker exited prematurely: signal 6 (SIGABRT) Job: 3."); None for anything else."""
    exc = getattr(exc, "exc", exc)  # celery's ExceptionWithTraceback wraps it
    if not isinstance(exc, WorkerLostError):
        return None
    found = SIGNAL.search(str(exc))
    if found is None:
        return None  # an exit code, not a signal
    number = int(found.group(1))
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def child_lost(settings: Settings, job_id: str, worker: str, name: str) -> str | None:
    """Resume the job, or fail it if this was its last attempt (``recovery.child_died``):
    "resumed", "failed" or None. Never raises: it runs in the parent's consumer loop."""
    url = settings.resolved_database_url
    try:
        with session_scope(url) as session:
            outcome = recovery.child_died(session, settings, Broker(settings), job_id, worker, name)
    except Exception:
        log.exception("job %s: could not record that its worker process died (%s)", job_id, name)
        return None
    finally:
        get_engine(url).dispose()  # the parent forks the next child: it keeps no connection
    if outcome == "failed":
        log.error("job %s failed: its worker process died (%s) on its last attempt", job_id, name)
    elif outcome == "resumed":
        log.warning("job %s: its worker process died (%s); queued again to resume", job_id, name)
    return outcome


def request_class(settings: Settings) -> type[Request]:
    """Celery's request for the train task, told (in the parent) when its child dies."""

    class TrainRequest(Request):
        def on_failure(
            self, exc_info: Any, send_failed_event: bool = True, return_ok: bool = False
        ) -> Any:
            outcome = super().on_failure(exc_info, send_failed_event, return_ok)
            name = signal_name(exc_info.exception)
            if name is not None and self.args:
                child_lost(settings, str(self.args[0]), self.hostname, name)
            return outcome

    return TrainRequest


def resume_own_jobs(settings: Settings, worker: str) -> list[str]:
    """At the worker's start: queue again the jobs an earlier process of the same name was
    training when it stopped (``recovery.worker_restarted``). Never raises."""
    url = settings.resolved_database_url
    try:
        with session_scope(url) as session:
            resumed = recovery.worker_restarted(session, settings, Broker(settings), worker)
    except Exception:
        log.exception("could not look for jobs this worker was training before it restarted")
        return []
    finally:
        get_engine(url).dispose()  # the pool forks children after this: no connection kept
    for job_id in resumed:
        log.warning("job %s was being trained by this worker before it restarted; resuming", job_id)
    return resumed
