"""Create, claim, finish and read training jobs. Every status change is logged with its time."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, case, func, select, update
from sqlalchemy.orm import Session, joinedload

from core.errors import Conflict, InvalidInput, NotFound
from core.settings import Settings
from models import Job, JobStatus, JobTransition
from models.api_key import LOCAL_OWNER
from models.base import utcnow
from services import datasets, events, placement, specs
from services.queue import Broker
from training.spec import JobSpec


def submit(
    session: Session,
    spec: JobSpec,
    owner: str = LOCAL_OWNER,
    *,
    settings: Settings,
    broker: Broker,
    summary: dict[str, Any] | None = None,
    warnings: list[dict[str, str]] | None = None,
    dataset_id: str | None = None,
) -> Job:
    """Create a queued job; its message goes to the broker once the caller commits."""
    job = create(
        session,
        spec,
        settings,
        owner=owner,
        summary=summary,
        warnings=warnings,
        dataset_id=dataset_id,
    )
    broker.send_after_commit(session, job.id, job.queue)
    return job


def create(
    session: Session,
    spec: JobSpec,
    settings: Settings,
    *,
    dataset_id: str | None = None,
    **columns: Any,
) -> Job:
    """A queued job row and no message yet (a batch sends its jobs' messages as slots free).

    ``dataset_id`` is the uploaded data set the spec was checked against (specs.job_details);
    once the row is inserted, that data set (or, without it, the one the spec names) must still
    exist and is held until commit, or the job is refused as specs.check refuses a missing one:
    a delete that committed since the check must not leave a queued job without its data."""
    check_name(spec.name, "name")
    placement.check(spec, settings)
    now = utcnow()
    job = Job(
        name=spec.name,
        queue=placement.queue_for(spec),
        status=JobStatus.queued,
        spec=spec.model_dump(mode="json"),
        created_at=now,
        updated_at=now,
        transitions=[JobTransition(status=JobStatus.queued, at=now)],
        **columns,
    )
    session.add(job)
    session.flush()
    if not datasets.held(session, spec.dataset.name, job.owner, dataset_id):
        raise specs.missing_dataset(session, spec, job.owner)
    events.status(session, job.id, JobStatus.queued, now)
    return job


def check_name(name: str | None, field: str) -> None:
    """Names are stored as text columns, which (in PostgreSQL) cannot hold a NUL character."""
    if name is not None and "\x00" in name:
        raise InvalidInput(
            f"{field} contains a NUL character (\\u0000), which cannot be stored",
            fix=f"remove control characters from {field}",
            code="spec_invalid",
        )


# A job and its transitions in one statement, so they agree: on PostgreSQL each statement of a
# transaction sees what had committed when it began, and a second query for the transitions
# could see a status change the job row read before it does not show.
_WITH_TRANSITIONS = joinedload(Job.transitions)


def get(session: Session, job_id: str, owner: str | None = None) -> Job:
    """The job; 404 if there is none, or if ``owner`` is given and the job is someone else's."""
    job = session.get(Job, job_id, options=[_WITH_TRANSITIONS])
    if job is None or (owner is not None and job.owner != owner):
        raise not_found(job_id)
    return job


def not_found(job_id: str) -> NotFound:
    return NotFound(
        f"no job with id {job_id!r}",
        fix="list jobs with {list_jobs} to find the right id",
        code="job_not_found",
    )


class JobSort(enum.StrEnum):
    """The orders a list of jobs comes in; a leading ``-`` reverses one."""

    oldest = "created_at"
    newest = "-created_at"
    name = "name"
    name_desc = "-name"
    status = "status"
    status_desc = "-status"

    @classmethod
    def __get_pydantic_json_schema__(cls, core_schema: Any, handler: Any) -> dict[str, Any]:
        """The schema names each member (``x-enum-varnames``), so that a generated client's
        enum reads ``NEWEST`` where a value such as "-created_at" gives no name of its own."""
        schema = handler.resolve_ref_schema(handler(core_schema))
        schema["x-enum-varnames"] = [member.name for member in cls]
        return schema


@dataclass(frozen=True)
class JobFilter:
    """Which jobs a list holds, and in which order. Empty fields do not filter."""

    status: Sequence[JobStatus] = ()
    name: str | None = None  # contained in the job's name, in any case
    dataset: str | None = None  # the data set the job trains on, by its name or an upload's id
    batch_id: str | None = None
    kind: str | None = None  # "train" or "lr_find" (a learning-rate range test)
    created_after: datetime | None = None  # at or after
    created_before: datetime | None = None  # strictly before
    sort: JobSort | None = JobSort.newest  # None: a batch's own order (batch_index)

    def conditions(self) -> list[ColumnElement[bool]]:
        """The filters but ``dataset``, which ``page`` matches by each name the data set has."""
        found: list[ColumnElement[bool]] = []
        if self.status:
            found.append(Job.status.in_([str(status) for status in self.status]))
        if self.name:
            found.append(Job.name.ilike(f"%{_escape_like(self.name)}%", escape="\\"))
        if self.batch_id:
            found.append(Job.batch_id == self.batch_id)
        if self.kind is not None:
            found.append(Job.kind == self.kind)
        if self.created_after:
            found.append(Job.created_at >= self.created_after)
        if self.created_before:
            found.append(Job.created_at < self.created_before)
        return found

    def order(self) -> list[ColumnElement[Any]]:
        """The sort's column first; then newest first, and the id, so that pages never overlap.

        Names sort regardless of case (as on every database); statuses in lifecycle order."""
        lifecycle = case(
            {status.value: rank for rank, status in enumerate(JobStatus)}, value=Job.status
        )
        first = {
            None: [Job.batch_index.asc()],
            JobSort.oldest: [Job.created_at.asc(), Job.id.asc()],
            JobSort.newest: [],
            JobSort.name: [func.lower(Job.name).asc().nulls_last()],
            JobSort.name_desc: [func.lower(Job.name).desc().nulls_last()],
            JobSort.status: [lifecycle.asc()],
            JobSort.status_desc: [lifecycle.desc()],
        }[self.sort]
        return [*first, Job.created_at.desc(), Job.id.desc()]


def _escape_like(text: str) -> str:
    """``text`` matched literally by LIKE: its ``%`` and ``_`` are not wildcards."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def page(
    session: Session,
    where: JobFilter = JobFilter(),
    *,
    limit: int,
    offset: int,
    owner: str | None = None,
) -> tuple[Sequence[Job], int]:
    """A page of the jobs ``where`` picks, in its order, and how many it picks in all; only
    ``owner``'s jobs if one is given."""
    conditions = where.conditions() + ([Job.owner == owner] if owner is not None else [])
    if where.dataset:  # a spec may name an upload by its name or by its id
        named = datasets.aliases(session, where.dataset, owner)
        conditions.append(Job.spec[("dataset", "name")].as_string().in_(named))
    total = session.scalar(select(func.count()).select_from(Job).where(*conditions)) or 0
    jobs = (
        session.scalars(
            select(Job)
            .where(*conditions)
            .options(_WITH_TRANSITIONS)
            .order_by(*where.order())
            .limit(limit)
            .offset(offset)
        )
        .unique()
        .all()
    )
    return jobs, total


def claim(session: Session, job_id: str, **where: str | None) -> bool:
    """Atomically move a job from queued to running; False if another delivery got there first.
    ``where`` records the worker, host and device that trains it."""
    now = utcnow()
    return _move(
        session,
        job_id,
        JobStatus.queued,
        JobStatus.running,
        now,
        started_at=func.coalesce(Job.started_at, now),  # a resumed job keeps its first start
        heartbeat_at=now,
        attempts=Job.attempts + 1,
        **where,
    )


def cancel(session: Session, job_id: str, owner: str | None = None) -> Job:
    """Cancel a queued job at once; ask a running one to stop (its worker ends it cancelled)."""
    get(session, job_id, owner)
    found = stop(session, job_id, utcnow())
    if found is not None and found != JobStatus.cancelling:  # asking twice is fine
        raise Conflict(
            f"job {job_id!r} already finished with status {found!r}; only a queued or "
            "running job can be cancelled",
            fix="nothing to cancel; to train again, submit the spec with {submit_job}",
            code="job_finished",
        )
    return session.get(  # type: ignore[return-value]
        Job, job_id, options=[_WITH_TRANSITIONS], populate_existing=True
    )


def stop(session: Session, job_id: str, now: datetime) -> str | None:
    """Cancel the job if it is queued, ask it to stop if it is running: None once one of those
    is done, else the status the job is in (cancelling already, or finished)."""
    # A worker's claim (queued -> running) or the sweep's requeue (running -> queued) can
    # commit between the two conditional moves, or between a caller's read and them; the job
    # is still unfinished then, so try again rather than report it as it never was.
    while True:
        if _move(session, job_id, JobStatus.queued, JobStatus.cancelled, now, finished_at=now):
            return None
        if _move(session, job_id, JobStatus.running, JobStatus.cancelling, now):
            return None
        status = session.scalar(select(Job.status).where(Job.id == job_id))
        if status not in (JobStatus.queued, JobStatus.running):
            return status


def should_stop(session: Session, job_id: str, attempt: int | None = None) -> bool:
    """True once a running job has been asked to stop (its status is no longer running), or,
    given the worker's ``attempt``, once a later attempt has claimed the job."""
    row = session.execute(select(Job.status, Job.attempts).where(Job.id == job_id)).first()
    if row is None or row.status != JobStatus.running:
        return True
    return attempt is not None and row.attempts != attempt


def _move(
    session: Session,
    job_id: str,
    before: JobStatus,
    after: JobStatus,
    now: datetime,
    *conditions: Any,
    **values: Any,
) -> bool:
    """One atomic transition; False if the job was not in the ``before`` state (or a further
    condition did not hold)."""
    result = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == before, *conditions)
        .values(status=after, updated_at=now, **values)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    session.add(JobTransition(job_id=job_id, status=after, at=now))
    events.status(session, job_id, after, now)
    return True


move = _move  # for services/recovery.py


def _finish(session: Session, job_id: str, status: JobStatus, **values: Any) -> Job:
    job = get(session, job_id)
    now = utcnow()
    job.status = status
    job.finished_at = now
    for key, value in values.items():
        setattr(job, key, value)
    session.add(JobTransition(job_id=job_id, status=status, at=now))
    events.prune_progress(session, job_id)
    events.status(session, job_id, status, now, **({"error": job.error} if job.error else {}))
    return job


def succeed(session: Session, job_id: str, final_metrics: dict[str, float]) -> Job:
    return _finish(session, job_id, JobStatus.succeeded, final_metrics=final_metrics, error=None)


def fail(session: Session, job_id: str, error: str) -> Job:
    return _finish(session, job_id, JobStatus.failed, error=error)


def end_cancelled(session: Session, job_id: str, final_metrics: dict[str, float] | None) -> Job:
    """The worker stopped a job that was asked to stop; its finished epochs are kept."""
    return _finish(session, job_id, JobStatus.cancelled, final_metrics=final_metrics)
