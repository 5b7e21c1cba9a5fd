"""A training job and the log of its status transitions."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.statuses import JobStatus
from models.base import Base, TimestampMixin, UTCDateTime, utcnow

if TYPE_CHECKING:
    from models.trained_model import TrainedModel


def new_id() -> str:
    return uuid.uuid4().hex


class Job(TimestampMixin, Base):
    __tablename__ = "job"
    __table_args__ = (Index("ix_job_created_at", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default=JobStatus.queued, index=True)
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    final_metrics: Mapped[dict[str, float] | None] = mapped_column(JSON)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The epoch with the lowest validation loss so far, and the first epoch of a run of
    # epochs where validation loss rose while training loss fell (see services/overfitting.py).
    best_epoch: Mapped[int | None] = mapped_column(Integer)
    overfitting_since: Mapped[int | None] = mapped_column(Integer)
    # Set when the job was submitted as part of a batch; its place in the batch's order.
    batch_id: Mapped[str | None] = mapped_column(
        ForeignKey("batch.id", ondelete="SET NULL"), index=True
    )
    batch_index: Mapped[int | None] = mapped_column(Integer)
    # Resolved at submission: the model's layer-by-layer summary and the spec's warnings.
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    warnings: Mapped[list[dict[str, str]] | None] = mapped_column(JSON)
    # Crash recovery (services/recovery.py): how many times a worker has claimed the job, when
    # its worker last said it is alive, when its message was last sent, and the last epoch
    # whose checkpoint is in the artifact store (a resumed job continues after it).
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    enqueued_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    checkpoint_epoch: Mapped[int | None] = mapped_column(Integer)
    checkpoint_key: Mapped[str | None] = mapped_column(String(500))
    # Who submitted it (an API key's owner; "local" while auth is off), and where it trained.
    owner: Mapped[str] = mapped_column(String(64), default="local", index=True)
    queue: Mapped[str] = mapped_column(String(16), default="any")
    worker: Mapped[str | None] = mapped_column(String(200))
    host: Mapped[str | None] = mapped_column(String(200))
    device: Mapped[str | None] = mapped_column(String(32))
    # "train", or "lr_find": a learning-rate range test (services/lr_find.py) whose request
    # and result (the loss-vs-rate curve and a suggested rate) are in ``lr_find``.
    kind: Mapped[str] = mapped_column(String(16), default="train", server_default="train")
    lr_find: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    transitions: Mapped[list[JobTransition]] = relationship(
        back_populates="job", lazy="raise", order_by="JobTransition.id"
    )
    model: Mapped[TrainedModel | None] = relationship(back_populates="job", lazy="raise")

    @property
    def model_id(self) -> str | None:
        """The trained model's id (the job's own), once there is one: a job cancelled while
        running keeps its last weights as a model, and its final metrics are set in the same
        transaction that registers that model."""
        if self.kind == "lr_find" and not (self.lr_find or {}).get("keep_model"):
            return None  # a range test leaves no model behind unless asked
        cancelled_with_model = self.status == JobStatus.cancelled and self.final_metrics is not None
        return self.id if self.status == JobStatus.succeeded or cancelled_with_model else None


class JobTransition(Base):
    """One row per status change, with its time: the job's lifecycle as it happened."""

    __tablename__ = "job_transition"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("job.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    job: Mapped[Job] = relationship(back_populates="transitions", lazy="raise")
