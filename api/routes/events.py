"""Live progress: a job's event log as Server-Sent Events.

The database is the source of truth: the worker writes events in the same transactions as the
changes they describe, and each stream polls the log for rows past the last id it sent. Any
number of API processes can serve streams; a client resumes with ``Last-Event-ID``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from typing import Annotated

import anyio
from fastapi import APIRouter, Header, Request, Response
from sqlalchemy.orm import Session
from sse_starlette import EventSourceResponse, ServerSentEvent

from api.auth import authenticate
from services import events, jobs

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])

PING_SECONDS = 15
BATCH = 500

STREAM_DESCRIPTION = """`text/event-stream`. Each event has an `id` (send it back as
`Last-Event-ID` to resume), an `event` name and JSON `data`:

- `status`: `{"status", "at", "error"?}` on every transition, `queued` first;
- `epoch`: a finished epoch, the same fields as a history row (with `best_epoch` and
  `overfitting_since`);
- `progress`: `{"epoch", "step", "steps", "loss"}` while an epoch runs, a few times a second.

The stream ends after the job's final status event."""


@router.get(
    "/{job_id}/events",
    summary="Stream a job's events",
    response_class=EventSourceResponse,
    responses={
        200: {"description": STREAM_DESCRIPTION, "content": {"text/event-stream": {}}},
        204: {"description": "The job has ended and every event was sent already."},
        404: {"description": "No such job."},
    },
)
async def stream_events(
    job_id: str,
    request: Request,
    last_event_id: Annotated[
        int | None, Header(ge=0, description="Resume after this event id.")
    ] = None,
) -> Response:
    """Status changes, finished epochs and batch progress, live, until the job ends."""
    sessions: Callable[[], Session] = request.app.state.sessionmaker
    interval: float = request.app.state.settings.events_poll_seconds
    last_id = last_event_id or 0
    scope = authenticate(request).scope

    def check() -> None:
        with sessions() as session:
            jobs.get(session, job_id, scope)  # 404 for an unknown job or another owner's

    if scope is not None:
        await anyio.to_thread.run_sync(check)
    first = await _poll(sessions, job_id, last_id)
    if first.finished and not first.events:
        # 204 tells an EventSource to stop reconnecting: there is nothing more to say.
        return Response(status_code=204)
    stream = _stream(sessions, job_id, first, last_id, interval)
    return EventSourceResponse(stream, ping=PING_SECONDS)


async def _stream(
    sessions: Callable[[], Session],
    job_id: str,
    batch: events.Poll,
    last_id: int,
    interval: float,
) -> AsyncIterator[ServerSentEvent]:
    while True:
        for event in batch.events:
            last_id = event.id
            yield ServerSentEvent(data=json.dumps(event.data), event=event.kind, id=str(event.id))
        if batch.finished and len(batch.events) < BATCH:
            return
        if not batch.events:
            await anyio.sleep(interval)
        batch = await _poll(sessions, job_id, last_id)


async def _poll(sessions: Callable[[], Session], job_id: str, last_id: int) -> events.Poll:
    def read() -> events.Poll:
        with sessions() as session:
            return events.poll(session, job_id, last_id, limit=BATCH)

    # A short session per poll, on a worker thread: a stream holds no connection while it waits.
    return await anyio.to_thread.run_sync(read)
