"""Live progress: a job's event log as Server-Sent Events.

The database is the source of truth: the worker writes events in the same transactions as the
changes they describe. A stream reads what is there already when it opens, then waits on one
poller that reads the log for every open stream of this process at once (api/streams.py). Any
number of API processes can serve streams; a client resumes with ``Last-Event-ID``.
"""

from __future__ import annotations

import json
import weakref
from collections.abc import AsyncIterator, Callable
from typing import Annotated

import anyio
from fastapi import APIRouter, Header, Request, Response
from sqlalchemy.orm import Session
from sse_starlette import EventSourceResponse, ServerSentEvent

from api.auth import authenticate
from api.streams import END, Streams, Subscriber
from services import api_keys, events, jobs

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])

PING_SECONDS = 15
BATCH = 500
LARGEST_ID = 2**63 - 1  # event ids are 64-bit signed integers in the database

STREAM_DESCRIPTION = """`text/event-stream`. Each event has an `id` (send it back as
`Last-Event-ID` to resume), an `event` name and JSON `data`:

- `status`: `{"status", "at", "error"?}` on every transition, `queued` first;
- `epoch`: a finished epoch, the same fields as a history row (with `best_epoch` and
  `overfitting_since`);
- `progress`: `{"epoch", "step", "steps", "loss"}` while an epoch runs, a few times a second.

The stream ends after the job's final status event, or when the key it was opened with is
revoked. One owner may hold `DESCENT_MAX_STREAMS_PER_OWNER` streams open on one server (429
past that; docs/security.md)."""


@router.get(
    "/{job_id}/events",
    summary="Stream a job's events",
    response_class=EventSourceResponse,
    responses={
        200: {"description": STREAM_DESCRIPTION, "content": {"text/event-stream": {}}},
        204: {"description": "The job has ended and every event was sent already."},
        404: {"description": "No such job."},
        429: {"description": "This owner holds the most open streams allowed already."},
    },
)
async def stream_events(
    job_id: str,
    request: Request,
    last_event_id: Annotated[
        int | None,
        Header(ge=0, le=LARGEST_ID, description="Resume after this event id."),
    ] = None,
) -> Response:
    """Status changes, finished epochs and batch progress, live, until the job ends."""
    sessions: Callable[[], Session] = request.app.state.sessionmaker
    last_id = last_event_id or 0
    principal = authenticate(request)

    def check() -> None:
        with sessions() as session:
            jobs.get(session, job_id, principal.scope)  # 404: unknown, or another owner's

    if principal.scope is not None:
        await anyio.to_thread.run_sync(check)
    streams = _streams(request)
    # An owner at its limit is refused before the database is read for it.
    subscriber = streams.open(job_id, principal.owner, _key_digest(request), last_id)
    try:
        first = await _poll(sessions, job_id, last_id)
    except BaseException:
        streams.close(subscriber)
        raise
    if first.finished and not first.events:
        streams.close(subscriber)
        # 204 tells an EventSource to stop reconnecting: there is nothing more to say.
        return Response(status_code=204)
    sent = [events.Sent(e.id, e.kind, e.data) for e in first.events]
    if sent:
        subscriber.cursor = sent[-1].id
        subscriber.queue.put_nowait(sent)
    if first.finished and len(sent) < BATCH:
        subscriber.queue.put_nowait(END)
    stream = _stream(streams, subscriber)
    # A stream whose response never starts (its client gone at once) still gives its place back.
    weakref.finalize(stream, streams.close, subscriber)
    streams.start(subscriber)
    # A client that stops reading is let go after two pings' time: its stream slot, and a
    # revoked key's stream, are not held until TCP gives up.
    return EventSourceResponse(stream, ping=PING_SECONDS, send_timeout=2 * PING_SECONDS)


def _streams(request: Request) -> Streams:
    """The app's streams, made on first use (so that an app built by hand works too)."""
    state = request.app.state
    streams: Streams | None = getattr(state, "streams", None)
    if streams is None:
        settings = state.settings
        streams = state.streams = Streams(
            state.sessionmaker, settings.events_poll_seconds, settings.max_streams_per_owner
        )
    return streams


def _key_digest(request: Request) -> str | None:
    if request.app.state.settings.auth == "off":
        return None
    _, _, secret = request.headers.get("authorization", "").partition(" ")
    return api_keys.digest(secret.strip())


async def _stream(streams: Streams, subscriber: Subscriber) -> AsyncIterator[ServerSentEvent]:
    try:
        while True:
            batch = await subscriber.queue.get()
            if isinstance(batch, str):  # the job ended or went, or the key was revoked
                return
            for event in batch:
                yield ServerSentEvent(
                    data=json.dumps(event.data), event=event.kind, id=str(event.id)
                )
    finally:
        streams.close(subscriber)


async def _poll(sessions: Callable[[], Session], job_id: str, last_id: int) -> events.Poll:
    def read() -> events.Poll:
        with sessions() as session:
            return events.poll(session, job_id, last_id, limit=BATCH)

    # A short session, on a worker thread: a stream holds no connection while it waits.
    return await anyio.to_thread.run_sync(read)
