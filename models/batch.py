"""A batch: many jobs submitted at once, run at most ``max_parallel`` at a time."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, TimestampMixin, UTCDateTime
from models.job import new_id


class Batch(TimestampMixin, Base):
    """Its jobs point at it (``job.batch_id``) and are ordered by ``job.batch_index``.

    ``dispatched`` is a cursor: the jobs with ``batch_index < dispatched`` have been handed to
    the broker (or skipped because they were cancelled first); the rest wait for a free slot.
    """

    __tablename__ = "batch"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str | None] = mapped_column(String(200))
    size: Mapped[int] = mapped_column(Integer)
    max_parallel: Mapped[int] = mapped_column(Integer)
    dispatched: Mapped[int] = mapped_column(Integer, default=0)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    owner: Mapped[str] = mapped_column(String(64), default="local", index=True)
