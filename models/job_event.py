"""The event log of a job: what a live listener (Server-Sent Events) is told, in order.

The id is the SSE event id: a client resumes with ``Last-Event-ID`` by reading the rows with a
larger id. ``sqlite_autoincrement`` makes SQLite never reuse an id, even after rows are pruned.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime, utcnow


class JobEvent(Base):
    __tablename__ = "job_event"
    __table_args__ = (
        Index("ix_job_event_job_id_id", "job_id", "id"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("job.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # status, epoch or progress
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
