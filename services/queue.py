"""The Celery app both sides build from their settings: the API sends "job X is ready"
through a ``Broker``, workers consume it (workers/celery_app.py).

The broker only carries job ids; the database decides what a job is. Celery settings suit
long training jobs: a message is acknowledged after the task ends, and each worker child
runs one job and is replaced, so every job trains in a fresh process (TensorFlow is not
fork-safe and holds memory for the life of its process).
"""

from __future__ import annotations

import logging
from datetime import datetime

from celery import Celery
from sqlalchemy import event
from sqlalchemy.orm import Session

from core.settings import Settings

TRAIN_TASK = "descent.train"
TRAIN_QUEUE = "any"  # see services/placement.py: gpu, cpu and any
VISIBILITY_MARGIN_SECONDS = 3600

log = logging.getLogger(__name__)


def make_celery(settings: Settings) -> Celery:
    app = Celery("descent", broker=settings.resolved_broker_url)
    app.conf.update(
        task_default_queue=TRAIN_QUEUE,
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_serializer="json",
        accept_content=["json"],
        worker_prefetch_multiplier=1,
        worker_max_tasks_per_child=1,
        # A fresh child imports TensorFlow before it takes a job; give it time to do so.
        worker_proc_alive_timeout=120,
        worker_hijack_root_logger=False,
        broker_connection_retry_on_startup=True,
    )
    if app.conf.broker_url.startswith(("redis://", "rediss://")):
        # Redis re-delivers a message not acknowledged within the visibility timeout; with
        # acks_late that means a job still training. Keep it above the longest allowed job.
        app.conf.broker_transport_options = {
            "visibility_timeout": settings.job_time_limit_seconds + VISIBILITY_MARGIN_SECONDS,
            "global_keyprefix": settings.broker_key_prefix,
        }
    elif app.conf.broker_url.startswith("sqla+sqlite"):
        # Workers send messages too (a batch's next job), while their parent polls and acks:
        # wait for SQLite's lock like the database does, instead of losing the message.
        app.conf.broker_transport_options = {"connect_args": {"timeout": 30}}
    return app


class Broker:
    """Sends job messages through the Celery app made from one process's settings: the API's
    (kept on ``app.state``), the sweep's or a worker's. The app is made on first use."""

    def __init__(self, settings: Settings, celery: Celery | None = None) -> None:
        self._settings = settings
        self._celery = celery

    @property
    def celery(self) -> Celery:
        if self._celery is None:
            self._celery = make_celery(self._settings)
        return self._celery

    def send(self, job_id: str, queue: str = TRAIN_QUEUE) -> bool:
        """Send the message for a committed job. False if the broker refused: the row stays
        queued."""
        try:
            self.celery.send_task(TRAIN_TASK, args=[job_id], queue=queue)
        except Exception:  # the row is the truth; a lost message is recoverable from it
            log.exception("could not enqueue job %s; it stays queued", job_id)
            return False
        return True

    def send_after_commit(
        self,
        session: Session,
        job_id: str,
        queue: str = TRAIN_QUEUE,
        sent_at: datetime | None = None,
    ) -> None:
        """Send the job's message once the session commits: a worker never sees an uncommitted
        id.

        The job's ``enqueued_at`` records the send, so a message lost on the way is sent again
        (services/recovery.py).
        """
        from sqlalchemy import update

        from models import Job
        from models.base import utcnow

        session.execute(update(Job).where(Job.id == job_id).values(enqueued_at=sent_at or utcnow()))
        event.listen(session, "after_commit", lambda _session: self.send(job_id, queue), once=True)
