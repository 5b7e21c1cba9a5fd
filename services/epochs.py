"""Record finished epochs and read a job's history."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from models import EpochRecord, Job
from services import events, jobs, overfitting, searches

COLUMNS = ("loss", "accuracy", "val_loss", "val_accuracy", "learning_rate")
DEFAULT_OVERFITTING_PATIENCE = 2


def record(
    session: Session,
    job_id: str,
    epoch: int,
    seconds: float,
    logs: dict[str, Any],
    *,
    patience: int = DEFAULT_OVERFITTING_PATIENCE,
) -> EpochRecord:
    """Store one epoch; the known metrics get columns, the layers' health (a list under
    ``"health"``, training/keras/health.py) its own, any other number goes to ``metrics``.

    The job's best epoch and overfitting flag are brought up to date, and listeners are told.
    An epoch recorded again (a resumed job re-trains the epoch its dead worker did not
    checkpoint) replaces the earlier row: the history holds each epoch once.
    """
    session.execute(
        delete(EpochRecord).where(EpochRecord.job_id == job_id, EpochRecord.epoch == epoch)
    )
    values = {key: _number(logs.get(key)) for key in COLUMNS}
    extra = {k: _number(v) for k, v in logs.items() if k not in (*COLUMNS, "health")}
    health = logs.get("health")
    row = EpochRecord(
        job_id=job_id, epoch=epoch, seconds=seconds, metrics=extra, health=health, **values
    )
    session.add(row)
    session.flush()
    verdict = overfitting.assess(
        (overfitting.EpochLosses(r.epoch, r.loss, r.val_loss) for r in history(session, job_id)),
        patience,
    )
    row.best_epoch, row.overfitting_since = verdict.best_epoch, verdict.overfitting_since
    session.execute(
        update(Job)
        .where(Job.id == job_id)
        .values(best_epoch=verdict.best_epoch, overfitting_since=verdict.overfitting_since)
    )
    events.epoch(session, job_id, as_row(row))
    searches.on_epoch(session, job_id, epoch)  # a search's trial at a rung may stop here
    return row


def forget_after(session: Session, job_id: str, epoch: int) -> None:
    """Epochs a dead attempt recorded past its last checkpoint are trained again; drop them."""
    session.execute(
        delete(EpochRecord).where(EpochRecord.job_id == job_id, EpochRecord.epoch > epoch)
    )
    session.flush()


def history(session: Session, job_id: str) -> Sequence[EpochRecord]:
    return session.scalars(
        select(EpochRecord).where(EpochRecord.job_id == job_id).order_by(EpochRecord.epoch)
    ).all()


@dataclass(frozen=True)
class JobHistory:
    """A job's epochs with its status and flags as they stood when those epochs were read."""

    status: str
    best_epoch: int | None
    overfitting_since: int | None
    epochs: list[EpochRecord]


def job_history(session: Session, job_id: str) -> JobHistory:
    """The job's history and its status and flags (404 if there is no such job).

    One statement reads them all, so they agree: each statement sees what had committed when
    it began (PostgreSQL; SQLite outside a write), and an epoch recorded between a read of the
    job and a read of its epochs would leave the job's best epoch behind the rows shown."""
    rows = session.execute(
        select(Job.status, Job.best_epoch, Job.overfitting_since, EpochRecord)
        .outerjoin(EpochRecord, EpochRecord.job_id == Job.id)
        .where(Job.id == job_id)
        .order_by(EpochRecord.epoch)
        .execution_options(populate_existing=True)
    ).all()
    if not rows:
        raise jobs.not_found(job_id)
    status, best_epoch, overfitting_since, _ = rows[0]
    epochs = [row.EpochRecord for row in rows if row.EpochRecord is not None]
    return JobHistory(status, best_epoch, overfitting_since, epochs)


def as_row(record: EpochRecord) -> dict[str, Any]:
    """An epoch as the history and the event stream show it."""
    return {
        "epoch": record.epoch,
        **{key: getattr(record, key) for key in COLUMNS},
        "seconds": record.seconds,
        "metrics": record.metrics,
        "best_epoch": record.best_epoch,
        "overfitting_since": record.overfitting_since,
        "health": record.health,
    }


def _number(value: Any) -> float | None:
    # NaN and inf are not JSON; a diverged loss is stored as null rather than breaking the API.
    if value is None:
        return None
    number = float(value)
    return number if number == number and abs(number) != float("inf") else None
