"""One finished epoch of a job: the numbers a learning curve is drawn from."""

from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, TimestampMixin


class EpochRecord(TimestampMixin, Base):
    __tablename__ = "epoch"
    __table_args__ = (UniqueConstraint("job_id", "epoch", name="uq_epoch_job_id_epoch"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("job.id", ondelete="CASCADE"), index=True)
    epoch: Mapped[int] = mapped_column(Integer)
    loss: Mapped[float | None] = mapped_column(Float)
    accuracy: Mapped[float | None] = mapped_column(Float)
    val_loss: Mapped[float | None] = mapped_column(Float)
    val_accuracy: Mapped[float | None] = mapped_column(Float)
    learning_rate: Mapped[float | None] = mapped_column(Float)
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
    # Any further metric Keras reported, by its name.
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The job's best epoch and overfitting flag as they stood when this epoch finished.
    best_epoch: Mapped[int | None] = mapped_column(Integer)
    overfitting_since: Mapped[int | None] = mapped_column(Integer)
    # Layer health on a fixed sample of training rows (training/keras/health.py): per
    # trainable layer its weight and gradient norms, update ratio, dead and saturated units.
    health: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
