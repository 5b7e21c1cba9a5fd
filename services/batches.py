"""Create batches, hand their jobs to the workers at most ``max_parallel`` at a time, cancel them.

Celery cannot hold messages back per batch, so the database does: a batch's jobs are all created
at once, but only ``max_parallel`` of them get a broker message. Whenever one of its jobs ends,
the worker calls :func:`dispatch_after`, which sends the next waiting job's message. One batch
therefore never has more than ``max_parallel`` messages queued or running, and jobs that other
clients submit meanwhile take their turn in the broker's queue between the batch's jobs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from core.errors import NotFound
from core.settings import Settings
from core.statuses import FINISHED
from models import Batch, Job, JobStatus
from models.base import utcnow
from services import jobs, searches
from services.queue import Broker
from services.specs import InvalidSpec, refuse_batch
from training.spec import JobSpec


def create(
    session: Session,
    specs: Sequence[JobSpec],
    *,
    name: str | None,
    max_parallel: int,
    details: Sequence[dict[str, Any]] | None = None,
    owner: str = "local",
    settings: Settings,
    broker: Broker,
) -> Batch:
    """All the jobs at once, queued in order; the first ``max_parallel`` are sent on commit.

    ``details`` holds, per spec, further job columns (its check's summary and warnings)."""
    jobs.check_name(name, "name")
    now = utcnow()
    batch = Batch(
        name=name, size=len(specs), max_parallel=max_parallel, dispatched=0, created_at=now,
        updated_at=now, owner=owner,
    )  # fmt: skip
    session.add(batch)
    session.flush()
    gone: list[dict[str, Any]] = []  # items whose data set was deleted since their check
    for index, spec in enumerate(specs):
        extra = details[index] if details is not None else {}
        try:
            jobs.create(
                session, spec, settings, batch_id=batch.id, batch_index=index, owner=owner, **extra
            )
        except InvalidSpec as error:
            gone.extend({"item": index, "name": spec.name, **e} for e in error.errors or [])
    if gone:
        raise refuse_batch(
            InvalidSpec,
            gone,
            len(specs),
            "cannot train",
            fix="upload the data sets again (or name others) and submit the batch again",
        )
    dispatch(session, batch.id, broker)
    return batch


def get(session: Session, batch_id: str, owner: str | None = None) -> Batch:
    batch = session.get(Batch, batch_id)
    if batch is None or (owner is not None and batch.owner != owner):
        raise not_found(batch_id)
    return batch


def not_found(batch_id: str) -> NotFound:
    """The same 404 whether there is no such batch or it is another owner's."""
    return NotFound(
        f"no batch with id {batch_id!r}",
        fix="use the id that {submit_batch} returned",
        code="batch_not_found",
    )


def page(
    session: Session, *, limit: int, offset: int, owner: str | None = None
) -> tuple[Sequence[Batch], int]:
    """Newest first, and how many there are in all; only ``owner``'s if one is given."""
    mine = [Batch.owner == owner] if owner is not None else []
    total = session.scalar(select(func.count()).select_from(Batch).where(*mine)) or 0
    found = session.scalars(
        select(Batch)
        .where(*mine)
        .order_by(Batch.created_at.desc(), Batch.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return found, total


def counts(session: Session, batch_ids: Sequence[str]) -> dict[str, dict[str, int]]:
    """How many of each batch's jobs are in each status (every status named, 0 or more)."""
    found: dict[str, dict[str, int]] = {
        batch_id: {status.value: 0 for status in JobStatus} for batch_id in batch_ids
    }
    rows = session.execute(
        select(Job.batch_id, Job.status, func.count())
        .where(Job.batch_id.in_(batch_ids))
        .group_by(Job.batch_id, Job.status)
    ).all()
    for batch_id, status, count in rows:
        found[batch_id][status] = count
    return found


def jobs_of(session: Session, batch_id: str) -> Sequence[Job]:
    """The batch's jobs in the order they were submitted."""
    return session.scalars(
        select(Job).where(Job.batch_id == batch_id).order_by(Job.batch_index)
    ).all()


def dispatch(session: Session, batch_id: str, broker: Broker) -> list[str]:
    """Send the messages of the batch's next waiting jobs, until ``max_parallel`` are in flight.

    Safe to call any number of times and from many processes: it first takes the batch row's
    write lock (an UPDATE), so concurrent calls for one batch run one after the other, and it
    counts what is in flight rather than trusting the caller. The ids sent are returned; their
    messages leave once the caller commits.
    """
    locked = session.execute(update(Batch).where(Batch.id == batch_id).values(updated_at=utcnow()))
    if locked.rowcount != 1:  # type: ignore[attr-defined]
        return []
    batch = session.get_one(Batch, batch_id, populate_existing=True)
    if batch.cancelled_at is not None:
        return []
    in_flight = (
        session.scalar(
            select(func.count())
            .select_from(Job)
            .where(
                Job.batch_id == batch_id,
                Job.batch_index < batch.dispatched,
                Job.status.not_in(FINISHED),
            )
        )
        or 0
    )
    free = batch.max_parallel - in_flight
    if free <= 0:
        return []
    waiting = session.execute(
        select(Job.id, Job.batch_index, Job.status, Job.queue)
        .where(Job.batch_id == batch_id, Job.batch_index >= batch.dispatched)
        .order_by(Job.batch_index)
    ).all()
    sent: list[str] = []
    for job_id, index, status, queue in waiting:
        if len(sent) == free:
            break
        batch.dispatched = index + 1
        if status == JobStatus.queued:  # one cancelled before its turn is passed over
            broker.send_after_commit(session, job_id, queue)
            sent.append(job_id)
    session.flush()
    return sent


def dispatch_after(session: Session, job_id: str, broker: Broker) -> list[str]:
    """A job has ended (or could not run): fill its slot in its batch, or in its search."""
    batch_id = session.scalar(select(Job.batch_id).where(Job.id == job_id))
    if batch_id is None:
        return searches.after_trial(session, job_id, broker)
    return dispatch(session, batch_id, broker)


def cancel(session: Session, batch_id: str) -> Batch:
    """Stop the batch: queued jobs are cancelled at once, running ones are asked to stop
    (within a batch, as a job's own cancel does), and no further job is sent."""
    now = utcnow()
    locked = session.execute(
        update(Batch)
        .where(Batch.id == batch_id)
        .values(cancelled_at=func.coalesce(Batch.cancelled_at, now), updated_at=now)
    )
    if locked.rowcount != 1:  # type: ignore[attr-defined]
        get(session, batch_id)  # raises NotFound
    # Each job is moved on its own terms (as a job's own cancel does), not from a list of
    # statuses read first: a worker may claim a queued job after that read, and the job must
    # then be asked to stop rather than left training.
    for job_id in session.scalars(
        select(Job.id)
        .where(Job.batch_id == batch_id, Job.status.in_([JobStatus.queued, JobStatus.running]))
        .order_by(Job.batch_index)
    ).all():
        jobs.stop(session, job_id, now)
    return session.get_one(Batch, batch_id, populate_existing=True)


def status_of(counts: dict[str, int]) -> str:
    """queued until a job starts, running while any is unfinished; then succeeded if all did,
    cancelled if any was cancelled, else failed."""
    unfinished = sum(n for status, n in counts.items() if status not in FINISHED)
    if unfinished:
        started = sum(counts.values()) - counts.get(JobStatus.queued, 0)
        return JobStatus.running if started else JobStatus.queued
    if counts.get(JobStatus.cancelled):
        return JobStatus.cancelled
    if counts.get(JobStatus.failed):
        return JobStatus.failed
    return JobStatus.succeeded
