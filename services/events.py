"""The job event log that live listeners read through ``GET /v1/jobs/{id}/events``.

Three kinds: ``status`` (every transition), ``epoch`` (each finished epoch, the same fields as
a history row) and ``progress`` (batch progress, throttled by the worker to a few a second).
Progress events are transient: they are deleted when the job ends, since the epoch rows keep
what lasts. Status and epoch events are kept for as long as the job.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from core.errors import NotFound
from models import ApiKey, Job, JobEvent, JobStatus

STATUS = "status"
EPOCH = "epoch"
PROGRESS = "progress"


def emit(session: Session, job_id: str, kind: str, data: dict[str, Any]) -> JobEvent:
    _lock_job(session, job_id)
    event = JobEvent(job_id=job_id, kind=kind, data=data)
    session.add(event)
    session.flush()
    return event


def status(session: Session, job_id: str, status: str, at: datetime, **extra: Any) -> JobEvent:
    return emit(session, job_id, STATUS, {"status": status, "at": at.isoformat(), **extra})


def epoch(session: Session, job_id: str, row: dict[str, Any]) -> JobEvent:
    return emit(session, job_id, EPOCH, row)


def progress(
    session: Session, job_id: str, *, epoch: int, step: int, steps: int | None, loss: float | None
) -> JobEvent:
    data = {"epoch": epoch, "step": step, "steps": steps, "loss": loss}
    return emit(session, job_id, PROGRESS, data)


def prune_progress(session: Session, job_id: str) -> None:
    session.execute(delete(JobEvent).where(JobEvent.job_id == job_id, JobEvent.kind == PROGRESS))


def after(session: Session, job_id: str, last_id: int, *, limit: int = 500) -> Sequence[JobEvent]:
    """The job's events with an id above ``last_id``, oldest first."""
    return session.scalars(
        select(JobEvent)
        .where(JobEvent.job_id == job_id, JobEvent.id > last_id)
        .order_by(JobEvent.id)
        .limit(limit)
    ).all()


def _lock_job(session: Session, job_id: str) -> None:
    # On PostgreSQL two transactions may insert events for one job at once and commit in the
    # opposite order to their ids; a reader that had seen the larger id would skip the smaller.
    # Taking the job's row lock first makes a job's event ids follow commit order. (SQLite
    # serialises writers already and emits no FOR UPDATE.)
    session.execute(select(Job.id).where(Job.id == job_id).with_for_update())


@dataclass(frozen=True)
class Poll:
    finished: bool  # the job had ended before ``events`` were read: no event will follow them
    events: Sequence[JobEvent]


def poll(session: Session, job_id: str, last_id: int, *, limit: int = 500) -> Poll:
    """The job's state, then its events after ``last_id``; NotFound for an unknown job."""
    status = session.scalar(select(Job.status).where(Job.id == job_id))
    if status is None:
        raise NotFound(
            f"no job with id {job_id!r}",
            fix="list jobs with {list_jobs} to find the right id",
            code="job_not_found",
        )
    return Poll(JobStatus(status).finished, after(session, job_id, last_id, limit=limit))


@dataclass(frozen=True)
class Sent:
    """An event as a stream sends it, detached from any session."""

    id: int
    kind: str
    data: dict[str, Any]


@dataclass(frozen=True)
class JobView:
    finished: bool  # the job had ended before ``events`` were read
    events: list[Sent]


@dataclass(frozen=True)
class Watch:
    jobs: dict[str, JobView]  # a job missing here no longer exists
    live_keys: set[str]  # of the key digests asked about, those neither unknown nor revoked


def watch(
    session: Session, cursors: dict[str, int], key_digests: set[str], *, limit: int = 500
) -> Watch:
    """What every open stream of one API process needs, in one query while all is quiet.

    ``cursors`` maps each job with open streams to the last event id they all have. One query
    reads each job's status and latest event id (an index lookup per job); only jobs with
    events past their cursor are read further. ``key_digests`` are checked at the same time.
    """
    latest = (
        select(func.max(JobEvent.id))
        .where(JobEvent.job_id == Job.id)
        .correlate(Job)
        .scalar_subquery()
    )
    rows = session.execute(
        select(Job.id, Job.status, latest).where(Job.id.in_(list(cursors)))
    ).all()
    jobs: dict[str, JobView] = {}
    for job_id, status, last in rows:
        new: list[Sent] = []
        if last is not None and last > cursors[job_id]:
            rows_after = after(session, job_id, cursors[job_id], limit=limit)
            new = [Sent(e.id, e.kind, e.data) for e in rows_after]
        jobs[job_id] = JobView(JobStatus(status).finished, new)
    live: set[str] = set()
    if key_digests:
        live = set(
            session.scalars(
                select(ApiKey.key_hash).where(
                    ApiKey.key_hash.in_(key_digests), ApiKey.revoked_at.is_(None)
                )
            )
        )
    return Watch(jobs, live)
