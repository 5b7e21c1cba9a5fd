"""Crash recovery: the database, not the broker, decides which jobs must run again.

A worker training a job writes ``heartbeat_at`` every few seconds. ``sweep`` (run every
``reconcile_seconds`` in the API's lifespan, api/sweeper.py) then finds:

- running jobs whose worker went silent (SIGKILL, out of memory, host lost): back to queued
  with their message sent again, so the next worker resumes them from their last checkpoint;
  past ``max_attempts`` starts they fail, saying why;
- cancelling jobs whose worker went silent: cancelled (they were asked to stop anyway);
- queued jobs whose message was sent long ago and never picked up (a lost message): sent again,
  each time after twice the wait (a job merely waiting behind long ones gets few duplicates).

Every change is one conditional UPDATE, so sweeps running in several processes at once, and
the duplicate messages they may send, are harmless: a worker starts a job only by the atomic
``queued → running`` claim, which counts a new attempt.

A worker whose heartbeat was only late (a long pause, a partition from the database) may still
be training when its job is taken over. Everything it writes for the job goes through ``hold``,
conditional on its attempt being the job's latest, so the superseded attempt cannot record
epochs, move the checkpoint pointer, register a model or end the job; it stops on its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from core.settings import Settings
from models import Job, JobStatus, TrainedModel
from models.base import utcnow
from services import events, jobs, searches
from services.queue import Broker


@dataclass
class Swept:
    """What one sweep did, by job id."""

    resumed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    resent: list[str] = field(default_factory=list)


# The states in which a job belongs to the worker attempt that claimed it.
HELD = (JobStatus.running, JobStatus.cancelling)


def hold(session: Session, job_id: str, attempt: int, **values: Any) -> bool:
    """Attempt ``attempt`` of the job is alive: its heartbeat, and ``values``, are written in
    one conditional UPDATE that holds only while the job is still that attempt's (running or
    cancelling, and no later claim has counted another attempt). False, writing nothing, once
    the sweep has taken the job over (its heartbeat was late, not dead) or it has ended.

    A worker calls it first in the transaction that writes anything else for the job: the
    UPDATE keeps the job row locked until the commit (SQLite: the database's write lock), so
    the sweep cannot take the job over between the check and the write."""
    result = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.attempts == attempt, Job.status.in_(HELD))
        .values(heartbeat_at=utcnow(), **values)
    )
    return result.rowcount == 1  # type: ignore[attr-defined,no-any-return]


def holds(session: Session, job_id: str, attempt: int) -> bool:
    """Whether the job is still attempt ``attempt``'s; a read, for deciding to stop early."""
    held = select(Job.id).where(Job.id == job_id, Job.attempts == attempt, Job.status.in_(HELD))
    return session.scalar(held) is not None


def forget_checkpoint(session: Session, job_id: str) -> None:
    """The job's checkpoints were deleted (it ended with its model stored): point at none.
    Bookkeeping after the job has finished, not a change a client sees: ``updated_at`` is kept,
    so the job a watcher read when it finished is still the job the API serves."""
    session.execute(
        update(Job).where(Job.id == job_id).values(checkpoint_key=None, updated_at=Job.updated_at)
    )
    session.flush()


def registers_files_in(session: Session, job_id: str, folder: str) -> bool:
    """Whether the job's registered model (if any) points into ``folder``: a superseded
    attempt deletes the model files in its own folder only if it does not."""
    registered = session.scalar(select(TrainedModel.keras_key).where(TrainedModel.id == job_id))
    return registered is not None and registered.startswith(f"{folder}/")


def silent_since(cutoff: datetime):  # type: ignore[no-untyped-def]
    """Jobs whose worker has said nothing since ``cutoff``."""
    return or_(Job.heartbeat_at < cutoff, (Job.heartbeat_at.is_(None)) & (Job.updated_at < cutoff))


def sweep(
    session: Session, settings: Settings, broker: Broker, now: datetime | None = None
) -> Swept:
    now = now or utcnow()
    swept = Swept()
    silent = silent_since(now - timedelta(seconds=settings.heartbeat_timeout_seconds))
    for job in session.scalars(select(Job).where(Job.status == JobStatus.running, silent)):
        if job.attempts >= settings.max_attempts:
            if jobs.move(
                session, job.id, JobStatus.running, JobStatus.failed, now, silent,
                finished_at=now, error=gave_up(job, settings),
            ):  # fmt: skip
                events.prune_progress(session, job.id)
                swept.failed.append(job.id)
        elif jobs.move(
            session, job.id, JobStatus.running, JobStatus.queued, now, silent, enqueued_at=now
        ):
            broker.send_after_commit(session, job.id, job.queue, now)
            swept.resumed.append(job.id)
    for job_id in session.scalars(
        select(Job.id).where(Job.status == JobStatus.cancelling, silent)
    ).all():
        if jobs.move(
            session, job_id, JobStatus.cancelling, JobStatus.cancelled, now, silent,
            finished_at=now,
        ):  # fmt: skip
            events.prune_progress(session, job_id)
            swept.cancelled.append(job_id)
    resend_before = now - timedelta(seconds=settings.resend_after_seconds)
    for job_id, queue, sent, created in session.execute(
        select(Job.id, Job.queue, Job.enqueued_at, Job.created_at).where(
            Job.status == JobStatus.queued, Job.enqueued_at < resend_before
        )
    ).all():
        if now - sent < sent - created:
            continue  # back off: each resend waits as long as the job had waited before it
        result = session.execute(
            update(Job)
            .where(Job.id == job_id, Job.status == JobStatus.queued, Job.enqueued_at == sent)
            .values(enqueued_at=now)
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            broker.send_after_commit(session, job_id, queue, now)  # to the queue it asked for
            swept.resent.append(job_id)
    searches.nudge(session, broker, settings)  # results no worker reported; free trial slots
    return swept


def worker_restarted(
    session: Session, settings: Settings, broker: Broker, worker: str, now: datetime | None = None
) -> list[str]:
    """A worker named ``worker`` has just started: the jobs an earlier process of that name was
    training, silent for over two heartbeats, are queued again at once to resume from their
    checkpoints, rather than after the heartbeat timeout the sweep waits for. A job on its last
    attempt is left to the sweep, which fails it. The ids queued again."""
    now = now or utcnow()
    silent = silent_since(now - timedelta(seconds=2 * settings.heartbeat_seconds))
    resumed = []
    for job in session.scalars(
        select(Job).where(
            Job.status == JobStatus.running,
            Job.worker == worker,
            Job.attempts < settings.max_attempts,
            silent,
        )
    ):
        if jobs.move(
            session, job.id, JobStatus.running, JobStatus.queued, now, silent,
            Job.worker == worker, enqueued_at=now,
        ):  # fmt: skip
            broker.send_after_commit(session, job.id, job.queue, now)
            resumed.append(job.id)
    return resumed


def gave_up(job: Job, settings: Settings) -> str:
    beat_at = job.heartbeat_at.isoformat() if job.heartbeat_at else "never"
    return (
        f"the worker training this job stopped answering on each of its {job.attempts} "
        f"attempts (last heartbeat: {beat_at}); it is not started again past "
        f"DESCENT_MAX_ATTEMPTS={settings.max_attempts}. A worker that dies without a word was "
        "usually killed for running out of memory: try a smaller batch_size or a smaller model, "
        "or give the worker more memory, and submit the spec again"
    )


def child_died(
    session: Session,
    settings: Settings,
    broker: Broker,
    job_id: str,
    worker: str,
    signal_name: str,
    now: datetime | None = None,
) -> str | None:
    """The pool child of ``worker`` training the job died by ``signal_name`` (its Celery parent
    saw it). On the job's last attempt it fails now, saying how the child died; on an earlier
    one it is queued again at once, to resume from its last checkpoint, rather than after the
    heartbeat timeout the sweep would wait (the sweep still catches a whole worker that
    vanished). "failed", "resumed", or None if the job was not this worker's running job."""
    now = now or utcnow()
    job = session.get(Job, job_id)
    if job is None or job.status != JobStatus.running or job.worker != worker:
        return None  # not (or no longer) this worker's to speak for
    this_attempt = (Job.attempts == job.attempts, Job.worker == worker)
    if job.attempts < settings.max_attempts:
        if not jobs.move(
            session, job_id, JobStatus.running, JobStatus.queued, now, *this_attempt,
            enqueued_at=now,
        ):  # fmt: skip
            return None
        broker.send_after_commit(session, job_id, job.queue, now)
        return "resumed"
    if not jobs.move(
        session, job_id, JobStatus.running, JobStatus.failed, now, *this_attempt,
        finished_at=now, error=died(job.attempts, settings, signal_name),
    ):  # fmt: skip
        return None
    events.prune_progress(session, job_id)
    return "failed"


def died(attempt: int, settings: Settings, signal_name: str) -> str:
    """Why a job failed whose worker process died by ``signal_name`` on its last attempt: a
    SIGKILL is almost always the kernel's out-of-memory killer; SIGABRT, SIGSEGV and the like
    are a crash inside the process (often a numerical library refusing what it was given),
    which more memory would not fix."""
    last = f"attempt {attempt} of DESCENT_MAX_ATTEMPTS={settings.max_attempts}"
    if signal_name == "SIGKILL":
        return (
            f"the worker process was killed (signal SIGKILL) while training this job, on "
            f"{last}; a process killed without a word was usually killed for running out of "
            "memory: try a smaller batch_size or a smaller model, or give the worker more "
            "memory, and submit the spec again"
        )
    return (
        f"the worker process crashed (signal {signal_name}) while training this spec, on "
        f"{last}; this was a crash, not an out-of-memory kill, and it happens again each "
        "time the spec is trained: check that the data set's rows hold the numbers you "
        "expect, try other layer sizes or a smaller batch_size, or train on another device "
        "(accelerator), and submit the spec again; if it still crashes, report it with the "
        "spec"
    )
