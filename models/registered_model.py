"""The model registry: a name per owner, its numbered versions, and aliases that point at one.

A version is a trained model (a job's id) registered under the name; versions count up from 1
per name and are never reused. An alias ("production", "staging") is one row per name and
alias, so moving it is a one-row UPDATE: a request resolves the alias once and keeps the
model it found, whatever moves after.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, ForeignKeyConstraint, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, TimestampMixin, UTCDateTime, utcnow
from models.job import new_id


class RegisteredModel(TimestampMixin, Base):
    """A name, unique per owner: two owners may each have an "mnist-digits"."""

    __tablename__ = "registered_model"
    __table_args__ = (UniqueConstraint("owner", "name", name="uq_registered_model_owner_name"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(64))
    owner: Mapped[str] = mapped_column(String(64), default="local", index=True)
    # The highest version handed out. Registering increments it in one UPDATE, which locks the
    # row until the transaction ends: two registrations at once get consecutive numbers.
    latest_version: Mapped[int] = mapped_column(Integer, default=0)


class ModelVersion(Base):
    """Version ``version`` of a name: the trained model registered as it."""

    __tablename__ = "model_version"

    registered_model_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("registered_model.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("trained_model.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ModelAlias(TimestampMixin, Base):
    """An alias of a name and the version it points at; moving it updates this one row."""

    __tablename__ = "model_alias"
    # An alias points at a version that exists, and goes with it.
    __table_args__ = (
        ForeignKeyConstraint(
            ["registered_model_id", "version"],
            ["model_version.registered_model_id", "model_version.version"],
            ondelete="CASCADE",
        ),
    )

    registered_model_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("registered_model.id", ondelete="CASCADE"), primary_key=True
    )
    alias: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
