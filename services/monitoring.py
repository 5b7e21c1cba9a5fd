"""What the API's metrics read from the database when Prometheus scrapes it (api/metrics.py):
jobs by status, and each worker's latest heartbeat. Two cheap aggregate queries, no job ids."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Job, JobStatus
from services.recovery import HELD


def jobs_by_status(session: Session) -> dict[str, int]:
    """How many jobs are in each status (every status, 0 where none): one GROUP BY."""
    counts = dict.fromkeys(JobStatus, 0)
    rows = session.execute(select(Job.status, func.count()).group_by(Job.status))
    counts.update({status: count for status, count in rows.tuples()})
    return {str(status): count for status, count in counts.items()}


def worker_heartbeats(session: Session) -> dict[str, datetime]:
    """The latest heartbeat of each worker holding a job (running or cancelling).

    Heartbeats are stored on the job a worker trains (``job.heartbeat_at``, written every
    ``DESCENT_HEARTBEAT_SECONDS``), so an idle worker has none: it is absent here, not stale."""
    rows = session.execute(
        select(Job.worker, func.max(Job.heartbeat_at))
        .where(Job.status.in_(HELD), Job.worker.is_not(None), Job.heartbeat_at.is_not(None))
        .group_by(Job.worker)
    )
    return {worker: beat for worker, beat in rows.tuples() if worker and beat}
