"""The Celery app both sides build from their settings: the API sends "job X is ready"
through a ``Broker``, workers consume it (workers/celery_app.py).

The broker only carries job ids; the database decides what a job is. Celery settings suit
long training jobs: a message is acknowledged after the task ends, and each worker child
runs one job and is replaced, so every job trains in a fresh process (TensorFlow is not
fork-safe and holds memory for the life of its process).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime

from celery import Celery
from sqlalchemy import event
from sqlalchemy.orm import Session

from core import logs
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
    def settings(self) -> Settings:
        """The settings of the process that sends (a search creates its next trial with them)."""
        return self._settings

    @property
    def celery(self) -> Celery:
        if self._celery is None:
            self._celery = make_celery(self._settings)
        return self._celery

    def check(self, timeout: float) -> None:
        """Connect to the broker once, without retrying, and let go; raises what connecting
        raised (readiness: api/readiness.py)."""
        with self.celery.connection_for_write(connect_timeout=timeout) as connection:
            connection.ensure_connection(max_retries=0, timeout=timeout)

    def send(self, job_id: str, queue: str = TRAIN_QUEUE) -> bool:
        """Send the message for a committed job. False if the broker refused: the row stays
        queued."""
        try:
            # The request (or the task) that sent it: the worker's lines for the job carry it.
            request_id = logs.fields().get("request_id")
            headers = {"request_id": request_id} if request_id else None
            self.celery.send_task(TRAIN_TASK, args=[job_id], queue=queue, headers=headers)
        except Exception:  # the row is the truth; a lost message is recoverable from it
            log.exception("could not enqueue job %s; it stays queued", job_id)
            return False
        return True

    def queue_depths(self, queues: Iterable[str], timeout: float) -> dict[str, int]:
        """Messages waiting in each queue (sent, not yet handed to a worker), asked of the
        broker on a connection of its own whose connect and socket waits are ``timeout``
        seconds; raises if the broker does not answer."""
        options: dict[str, object] = {"max_retries": 0}
        if self.celery.conf.broker_url.startswith(("redis://", "rediss://")):
            options |= {"socket_timeout": timeout, "socket_connect_timeout": timeout}
        with self.celery.connection_for_read(
            connect_timeout=timeout, transport_options=options
        ) as connection:
            channel = connection.default_channel
            try:
                # Declaring answers the message count. Not passive: kombu checks a passive
                # declare with Redis EXISTS, which it does not prefix with global_keyprefix, so
                # it would find no queue. A declare writes nothing to Redis; kombu's SQLAlchemy
                # transport adds the queue's row if missing, as a worker's declare does.
                return {queue: channel.queue_declare(queue=queue).message_count for queue in queues}
            finally:
                # kombu's SQLAlchemy channel never closes its session: each one would keep a
                # database connection out of the transport's pool, which sends jobs too.
                session = getattr(channel, "_session", None)
                if session is not None:
                    session.close()

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
