"""A batch as its page and its API answer show it: counts by status, the jobs and what sets each
apart, a leaderboard by each job's best epoch, and the metric's curves on one epoch axis."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from models import Batch, JobStatus
from services import batches, leaderboards, sweeps


def view(session: Session, batch: Batch, metric: str) -> dict[str, Any]:
    """The batch ranked by ``metric``, as a plain structure (``BatchPublic``'s fields)."""
    jobs = batches.jobs_of(session, batch.id)
    comparison = leaderboards.compare(session, jobs, metric)
    varied = dict(zip([j.id for j in jobs], sweeps.varied([j.spec for j in jobs]), strict=True))
    counts = {s.value: 0 for s in JobStatus} | dict(Counter(job.status for job in jobs))
    return summary(batch, counts) | {
        "metric": comparison.metric,
        "goal": comparison.goal,
        "leaderboard": [
            {
                "rank": s.rank,
                "job_id": s.job.id,
                "name": s.job.name,
                "status": s.job.status,
                "varied": varied[s.job.id],
                "value": s.value,
                "epoch": s.epoch,
            }
            for s in comparison.leaderboard
        ],
        "jobs": [
            {
                "id": job.id,
                "name": job.name,
                "index": job.batch_index or 0,
                "status": job.status,
                "varied": varied[job.id],
                "epochs": job.spec.get("epochs", 0),
                "epochs_done": comparison.epochs_done[job.id],
                "final_metrics": job.final_metrics,
                "error": job.error,
            }
            for job in jobs
        ],
        "curves": {
            "metric": comparison.metric,
            "epochs": comparison.epochs,
            "series": [
                {"job_id": job.id, "name": job.name, "values": comparison.curves[job.id]}
                for job in jobs
            ],
        },
    }


def summaries(session: Session, found: Sequence[Batch]) -> list[dict[str, Any]]:
    """Each batch as a list shows it: its counts by status and the status they add up to."""
    by_batch = batches.counts(session, [batch.id for batch in found])
    return [summary(batch, by_batch[batch.id]) for batch in found]


def summary(batch: Batch, counts: dict[str, int]) -> dict[str, Any]:
    """``BatchSummary``'s fields."""
    return {
        "id": batch.id,
        "name": batch.name,
        "status": batches.status_of(counts),
        "size": batch.size,
        "max_parallel": batch.max_parallel,
        "created_at": batch.created_at,
        "cancelled_at": batch.cancelled_at,
        "counts": counts,
    }
