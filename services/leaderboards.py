"""Compare the jobs of a batch: a leaderboard by each job's best epoch, and aligned curves."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import InvalidInput
from models import EpochRecord, Job
from services.epochs import COLUMNS

Goal = Literal["min", "max"]


@dataclass
class Standing:
    rank: int
    job: Job
    value: float
    epoch: int


@dataclass
class Comparison:
    metric: str
    goal: Goal
    leaderboard: list[Standing]
    epochs: list[int]  # the x axis shared by every curve
    curves: dict[str, list[float | None]]  # job id -> the metric at each of ``epochs``
    epochs_done: dict[str, int]  # job id -> the last epoch recorded (-1: none yet)


def goal_of(metric: str) -> Goal:
    """Accuracies are maximised; losses and errors minimised."""
    return "max" if metric.endswith("accuracy") else "min"


def compare(session: Session, jobs: Sequence[Job], metric: str) -> Comparison:
    """Rank by the best value of ``metric`` over epochs 1..N (epoch 0 is the untrained model),
    ties to the earlier job; jobs with no trained epoch yet are not ranked."""
    rows = session.scalars(
        select(EpochRecord)
        .where(EpochRecord.job_id.in_([job.id for job in jobs]))
        .order_by(EpochRecord.job_id, EpochRecord.epoch)
    ).all()
    _check_metric(metric, rows)
    values: dict[str, dict[int, float | None]] = defaultdict(dict)
    for row in rows:
        values[row.job_id][row.epoch] = _value(row, metric)
    goal = goal_of(metric)
    sign = 1 if goal == "min" else -1

    ranked: list[tuple[float, int, Job, int]] = []
    for order, job in enumerate(jobs):
        trained = [(v, e) for e, v in values[job.id].items() if e >= 1 and v is not None]
        if trained:
            value, epoch = min(trained, key=lambda pair: (sign * pair[0], pair[1]))
            ranked.append((sign * value, order, job, epoch))
    ranked.sort(key=lambda item: (item[0], item[1]))
    leaderboard = [
        Standing(rank=i + 1, job=job, value=sign * key, epoch=epoch)
        for i, (key, _, job, epoch) in enumerate(ranked)
    ]

    last = max((row.epoch for row in rows), default=-1)
    epochs = list(range(last + 1))
    curves = {job.id: [values[job.id].get(e) for e in epochs] for job in jobs}
    done = {job.id: max(values[job.id], default=-1) for job in jobs}
    return Comparison(metric, goal, leaderboard, epochs, curves, done)


def _value(row: EpochRecord, metric: str) -> float | None:
    if metric in COLUMNS:
        return getattr(row, metric)
    return (row.metrics or {}).get(metric)


def _check_metric(metric: str, rows: Sequence[EpochRecord]) -> None:
    known = set(COLUMNS) | {key for row in rows for key in (row.metrics or {})}
    if metric not in known:
        raise InvalidInput(
            f"the metric {metric!r} is not recorded for this batch's jobs",
            fix=f"choose one of: {', '.join(sorted(known))}",
            code="query_invalid",
        )
