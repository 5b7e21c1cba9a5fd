"""A search: trials sampled from a space of spec fields, the losers stopped early.

Everything a search decides is a row, so that deciding again finds the decision already made:
a trial is ``(search, number)`` and points at its own job; a result at a rung is
``(search, epoch, number)``; a trial's place in the order results arrived is unique per search.
An API or worker restart, or a crash between two of these writes, therefore neither loses a
trial nor starts one twice (services/searches.py).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, TimestampMixin, UTCDateTime, utcnow
from models.job import new_id


class Search(TimestampMixin, Base):
    """``spec`` is the search as submitted and checked (base spec, space, metric, direction,
    sampler, budget, stopping rule with its rungs resolved). ``trials_started`` is the next
    trial's number and ``results`` how many trials have ended: a trial is sampled knowing the
    first ``results`` of them, in the order they arrived, so a replay samples the same."""

    __tablename__ = "search"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str | None] = mapped_column(String(200))
    owner: Mapped[str] = mapped_column(String(64), default="local", index=True)
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    seed: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="running")
    trials_started: Mapped[int] = mapped_column(Integer, default=0)
    results: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SearchTrial(Base):
    """Trial ``number`` of a search: its parameters and the job that trains them."""

    __tablename__ = "search_trial"
    __table_args__ = (
        UniqueConstraint("search_id", "arrival", name="uq_search_trial_search_id_arrival"),
    )

    search_id: Mapped[str] = mapped_column(
        ForeignKey("search.id", ondelete="CASCADE"), primary_key=True
    )
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[str] = mapped_column(
        ForeignKey("job.id", ondelete="CASCADE"), unique=True, index=True
    )
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    # How many results had arrived when it was sampled (the sampler saw those).
    asked_after: Mapped[int] = mapped_column(Integer, default=0)
    # Its place in the order results arrived; None while it runs.
    arrival: Mapped[int | None] = mapped_column(Integer)
    value: Mapped[float | None] = mapped_column(Float)
    best_epoch: Mapped[int | None] = mapped_column(Integer)
    stopped_at_epoch: Mapped[int | None] = mapped_column(Integer)
    stop_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SearchRung(Base):
    """A trial's value when it reached a rung (an epoch), and what was decided there."""

    __tablename__ = "search_rung"

    search_id: Mapped[str] = mapped_column(
        ForeignKey("search.id", ondelete="CASCADE"), primary_key=True
    )
    epoch: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[float | None] = mapped_column(Float)
    decision: Mapped[str] = mapped_column(String(16))  # "continue" or "stop"
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
