"""A data set a user uploaded: its description here, its rows in the artifact store."""

from __future__ import annotations

import uuid

from sqlalchemy import JSON, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, TimestampMixin


def new_id() -> str:
    return uuid.uuid4().hex


class UserDataset(TimestampMixin, Base):
    __tablename__ = "dataset"
    # Names are unique per owner: two owners may each have a "points" without either
    # learning that the other's exists.
    __table_args__ = (UniqueConstraint("owner", "name", name="uq_dataset_owner_name"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(64))
    task: Mapped[str] = mapped_column(String(16))  # classification or regression
    input_shape: Mapped[list[int]] = mapped_column(JSON)
    rows: Mapped[int] = mapped_column(Integer)
    # Classification: the label of each class index. Regression: empty.
    class_names: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Regression: numbers to predict per row. Classification: 0.
    target_size: Mapped[int] = mapped_column(Integer, default=0)
    # CSV uploads: the feature columns' names, in order (what a prediction row must hold).
    feature_names: Mapped[list[str] | None] = mapped_column(JSON)
    data_key: Mapped[str] = mapped_column(String(500))
    # Who uploaded it (an API key's owner; "local" while auth is off).
    owner: Mapped[str] = mapped_column(String(64), default="local", index=True)
