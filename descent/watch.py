"""Follow a job or a batch while it runs, as a stream of updates.

A job is followed through its event stream (``GET /v1/jobs/{id}/events``): each status change
and each finished epoch arrives as the worker records it. A dropped connection (a restarted
API, a proxy timing out) is resumed with the last event's id, so nothing is missed or told
twice. A batch has no event stream of its own, so :func:`poll_batch` polls it.

A job whose worker died is resumed from its last checkpoint by another worker, which trains
the epochs after it again: the stream then holds a second ``epoch`` event for each of them.
The later one replaces the earlier (as the job's history does), and the update says it is a
re-run; the last update's epochs are the job's history itself.
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
    epochs: list[Epoch]  # the epochs that stand so far, one per number, epoch 0 first
    recorded: Epoch | None = None  # the epoch whose recording this update tells, if one
    rerun: bool = False  # ``recorded`` was recorded before: the job resumed from a checkpoint


JobSource = Callable[[Client, str], Iterator[JobUpdate]]


def stream_job(
    client: Client,
    job_id: str,
    *,
    retry: float = RETRY_SECONDS,
    give_up: float = GIVE_UP_SECONDS,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[JobUpdate]:
    """Yield the job as it is now, then whenever its status changes or it records an epoch;
    the last update is the job as it ended (read once more, with its final metrics, model and
    history)."""
    job = client.get_job(job_id)
    yield JobUpdate(job, [])
    # The stream starts with the job's whole log. Its status events, one per transition, up to
    # now are what ``job`` says already: they are not news, and would take the status back.
    told = len(job.transitions)
    epochs: dict[int, Epoch] = {}
    ever: set[int] = set()  # the epoch numbers recorded, by any of the job's attempts
    last_id: int | None = None
    failing_since: float | None = None
    while not job.finished:
        try:
            events = client.job_events(job_id, last_event_id=last_id)
            for event in events:
                failing_since = None
                last_id = event.id if event.id is not None else last_id
                if event.kind == "status":
                    if told:
                        told -= 1
                        continue
                    if event.data["status"] == job.status:
                        continue
                    job = job.model_copy(update={"status": event.data["status"]})
                    yield JobUpdate(job, _in_order(epochs))
                elif event.kind == "epoch":
                    epoch = Epoch.model_validate(event.data)
                    # An attempt records its epochs in order: one recorded again means a new
                    # attempt trains on from an earlier checkpoint, and what the lost attempt
                    # recorded from there on is gone (its history rows are deleted).
                    for number in [n for n in epochs if n >= epoch.epoch]:
                        del epochs[number]
                    epochs[epoch.epoch] = epoch
                    rerun = epoch.epoch in ever
                    ever.add(epoch.epoch)
                    yield JobUpdate(job, _in_order(epochs), epoch, rerun)
                # else: batch progress, which a watch does not show
            if events.done:
                break  # a 204: the job has ended and every event was sent already
        except ApiError as error:
            if error.status is not None:  # the server answered: asking again won't help
                raise
            failing_since = failing_since or time.monotonic()
            if time.monotonic() - failing_since > give_up:
                raise
        if not job.finished:
            sleep(retry)  # the connection dropped: resume after the last event
    yield JobUpdate(client.get_job(job_id), client.history(job_id).epochs)


def _in_order(epochs: dict[int, Epoch]) -> list[Epoch]:
    return [epochs[number] for number in sorted(epochs)]


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
