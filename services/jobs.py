"""Create, claim, finish and read training jobs. Every status change is logged with its time."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, selectinload

from models import Job, JobStatus, JobTransition
from models.base import utcnow
from services.errors import NotFound
from services.queue import enqueue_after_commit
from training.spec import JobSpec


def submit(session: Session, spec: JobSpec) -> Job:
    """Create a queued job; its message goes to the broker once the caller commits."""
    job = create(session, spec)
    enqueue_after_commit(session, job.id)
    return job


def create(session: Session, spec: JobSpec, **columns: Any) -> Job:
    """A queued job row and no message yet (a batch sends its jobs' messages as slots free)."""
    now = utcnow()
    job = Job(
        name=spec.name,
        status=JobStatus.queued,
        spec=spec.model_dump(mode="json"),
        created_at=now,
        updated_at=now,
        transitions=[JobTransition(status=JobStatus.queued, at=now)],
        **columns,
    )
    session.add(job)
    session.flush()
    return job


def get(session: Session, job_id: str) -> Job:
    job = session.get(Job, job_id, options=[selectinload(Job.transitions)])
    if job is None:
        raise NotFound(
            f"no job with id {job_id!r}", fix="list jobs with GET /v1/jobs to find the right id"
        )
    return job


def page(session: Session, *, limit: int, offset: int) -> tuple[Sequence[Job], int]:
    """Newest first."""
    total = session.scalar(select(func.count()).select_from(Job)) or 0
    jobs = session.scalars(
        select(Job)
        .options(selectinload(Job.transitions))
        .order_by(Job.created_at.desc(), Job.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return jobs, total


def claim(session: Session, job_id: str) -> bool:
    """Atomically move a job from queued to running; False if another delivery got there first."""
    now = utcnow()
    result = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == JobStatus.queued)
        .values(status=JobStatus.running, started_at=now, updated_at=now)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    session.add(JobTransition(job_id=job_id, status=JobStatus.running, at=now))
    session.flush()
    return True


def _finish(session: Session, job_id: str, status: JobStatus, **values: Any) -> Job:
    job = get(session, job_id)
    now = utcnow()
    job.status = status
    job.finished_at = now
    for key, value in values.items():
        setattr(job, key, value)
    session.add(JobTransition(job_id=job_id, status=status, at=now))
    session.flush()
    return job


def succeed(session: Session, job_id: str, final_metrics: dict[str, float]) -> Job:
    return _finish(session, job_id, JobStatus.succeeded, final_metrics=final_metrics, error=None)


def fail(session: Session, job_id: str, error: str) -> Job:
    return _finish(session, job_id, JobStatus.failed, error=error)


def cancel_queued(session: Session, job_ids: Sequence[str]) -> list[str]:
    """Cancel those of the jobs that are still queued, at once; the ids that were cancelled."""
    now = utcnow()
    cancelled = []
    for job_id in job_ids:
        result = session.execute(
            update(Job)
            .where(Job.id == job_id, Job.status == JobStatus.queued)
            .values(status=JobStatus.cancelled, finished_at=now, updated_at=now)
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            session.add(JobTransition(job_id=job_id, status=JobStatus.cancelled, at=now))
            cancelled.append(job_id)
    session.flush()
    return cancelled
