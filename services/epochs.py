"""Record finished epochs and read a job's history."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import EpochRecord

COLUMNS = ("loss", "accuracy", "val_loss", "val_accuracy", "learning_rate")


def record(session: Session, job_id: str, epoch: int, seconds: float, logs: dict[str, Any]) -> None:
    """Store one epoch; the known metrics get columns, anything else goes to ``metrics``."""
    values = {key: _number(logs.get(key)) for key in COLUMNS}
    extra = {k: _number(v) for k, v in logs.items() if k not in COLUMNS}
    session.add(EpochRecord(job_id=job_id, epoch=epoch, seconds=seconds, metrics=extra, **values))
    session.flush()


def history(session: Session, job_id: str) -> Sequence[EpochRecord]:
    return session.scalars(
        select(EpochRecord).where(EpochRecord.job_id == job_id).order_by(EpochRecord.epoch)
    ).all()


def _number(value: Any) -> float | None:
    # NaN and inf are not JSON; a diverged loss is stored as null rather than breaking the API.
    if value is None:
        return None
    number = float(value)
    return number if number == number and abs(number) != float("inf") else None
