"""Follow a job or a batch while it runs, as a stream of updates.

Today the updates come from polling ``GET /v1/jobs/{id}`` and its history (epoch by epoch);
a source that reads the server's event stream can replace :func:`poll_job` with the same
signature, and the CLI that renders the updates stays as it is.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from descent.client import Batch, Client, Epoch, Job

POLL_SECONDS = 0.5


@dataclass(frozen=True)
class JobUpdate:
    job: Job
    epochs: list[Epoch]  # every epoch recorded so far, epoch 0 first


JobSource = Callable[[Client, str], Iterator[JobUpdate]]


def poll_job(
    client: Client,
    job_id: str,
    *,
    interval: float = POLL_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[JobUpdate]:
    """Yield when the job's status or history changes; the last update is its final state."""
    seen: tuple[str, int] | None = None
    while True:
        job = client.get_job(job_id)
        # The history is read after the job: once the job is finished, it is complete.
        epochs = client.history(job_id).epochs
        if (job.status, len(epochs)) != seen:
            seen = (job.status, len(epochs))
            yield JobUpdate(job, epochs)
        if job.finished:
            return
        sleep(interval)


def poll_batch(
    client: Client,
    batch_id: str,
    *,
    metric: str | None = None,
    interval: float = POLL_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[Batch]:
    """Yield the batch whenever one of its jobs changes status or records an epoch."""
    seen: tuple[object, ...] | None = None
    while True:
        batch = client.get_batch(batch_id, metric=metric)
        state = tuple((job.status, job.epochs_done) for job in batch.jobs)
        if state != seen:
            seen = state
            yield batch
        if batch.finished:
            return
        sleep(interval)
