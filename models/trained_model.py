"""A trained model: where its files are and everything prediction needs to use them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import Base, TimestampMixin

if TYPE_CHECKING:
    from models.job import Job


class TrainedModel(TimestampMixin, Base):
    """One per succeeded job; its id is the job's id, so a client can ask for it early."""

    __tablename__ = "trained_model"

    id: Mapped[str] = mapped_column(
        String(32), ForeignKey("job.id", ondelete="CASCADE"), primary_key=True
    )
    dataset: Mapped[str] = mapped_column(String(64))
    task: Mapped[str] = mapped_column(String(32))
    class_names: Mapped[list[str]] = mapped_column(JSON)
    input_shape: Mapped[list[int]] = mapped_column(JSON)
    scaling: Mapped[str] = mapped_column(String(32))
    keras_key: Mapped[str] = mapped_column(String(500))
    onnx_key: Mapped[str] = mapped_column(String(500))
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    export_check: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Where the model is wrong, on the validation (or test) rows with these weights: the
    # confusion matrix, per-class scores and the most confident mistakes; or, for regression,
    # its residuals (training/keras/evaluation.py). None for a model stopped before the end.
    evaluation: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    owner: Mapped[str] = mapped_column(String(64), default="local", index=True)

    job: Mapped[Job] = relationship(back_populates="model", lazy="raise")
