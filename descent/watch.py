"""Follow a job or a batch while it runs, as a stream of updates.

A job is followed through its event stream (``GET /v1/jobs/{id}/events``): each status change
and each finished epoch arrives as the worker records it. A dropped connection (a restarted
API, a proxy timing out) is resumed with the last event's id, so nothing is missed or told
twice. A batch has no event stream of its own, so :func:`poll_batch` polls it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from descent.client import ApiError, Batch, Client, Epoch, Job

POLL_SECONDS = 0.5
RETRY_SECONDS = 1.0  # between reconnections, as a browser's EventSource waits
GIVE_UP_SECONDS = 60.0  # a server unreachable this long ends the watch


@dataclass(frozen=True)
class JobUpdate:
    job: Job
    epochs: list[Epoch]  # every epoch recorded so far, epoch 0 first


JobSource = Callable[[Client, str], Iterator[JobUpdate]]


def stream_job(
    client: Client,
    job_id: str,
    *,
    retry: float = RETRY_SECONDS,
    give_up: float = GIVE_UP_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[JobUpdate]:
    """Yield when the job's status changes or it records an epoch; the last update is the
    job as it ended (read once more, with its final metrics and model)."""
    job, epochs = client.get_job(job_id), []
    last_id: int | None = None
    failing_since: float | None = None
    while not job.finished:
        try:
            heard = False
            for event in client.job_events(job_id, last_event_id=last_id):
                heard, failing_since = True, None
                last_id = event.id if event.id is not None else last_id
                if event.kind == "status" and event.data["status"] != job.status:
                    job = job.model_copy(update={"status": event.data["status"]})
                elif event.kind == "epoch":
                    epochs.append(Epoch.model_validate(event.data))
                else:
                    continue  # batch progress, or the status the job was in already
                yield JobUpdate(job, list(epochs))
            if not heard and not job.finished and client.get_job(job_id).finished:
                break  # a 204: the job has ended and every event was sent already
        except ApiError as error:
            if error.status is not None:  # the server answered: asking again won't help
                raise
            failing_since = failing_since or time.monotonic()
            if time.monotonic() - failing_since > give_up:
                raise
        if not job.finished:
            sleep(retry)  # the connection dropped: resume after the last event
    yield JobUpdate(client.get_job(job_id), epochs)


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
