"""Open event streams, served by one poller per API process rather than a poll per stream.

A thousand open streams used to be a thousand database polls every interval on the shared
thread pool, and everything else (``/healthz`` included) queued behind them. Here each stream
is a ``Subscriber`` with a queue; one ``Poller`` task per event loop asks the database, once an
interval, for the state of every job that has streams open (services/events.py ``watch``: one
query while nothing happens) and puts what is new on the queues of that job's streams.

The database stays the source of truth, so any number of API processes serve streams and work
on SQLite as on PostgreSQL. The poller also re-checks, every ``KEY_CHECK_SECONDS``, the keys
the open streams were opened with: a revoked key's streams end (its client's reconnection is a
401). Each owner may hold ``max_streams_per_owner`` streams open on one process; one more is a
429. A stream whose client reads slowly gets nothing new until it has sent what it holds, so a
stream holds at most one batch in memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
import weakref
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import anyio
from sqlalchemy.orm import Session

from core.errors import TooManyRequests
from services import events

BATCH = 500
KEY_CHECK_SECONDS = 5.0
RETRY_SECONDS = 2.0
LOG = logging.getLogger("descent.streams")


@dataclass(eq=False)
class Subscriber:
    job_id: str
    owner: str
    key_digest: str | None  # the API key the stream was opened with; None with auth off
    cursor: int  # the last event id it was given
    queue: asyncio.Queue[list[events.Sent] | str] = field(default_factory=asyncio.Queue)
    poller: Poller | None = None
    closed: bool = False


END = "end"  # the job has ended and every event was given
GONE = "gone"  # the job was deleted
REVOKED = "revoked"  # the key the stream was opened with was revoked


class Streams:
    """The open streams of one app: per-owner counts, and a poller per running event loop (one
    in production; a test client may run several)."""

    def __init__(
        self, sessions: Callable[[], Session], interval: float, max_per_owner: int
    ) -> None:
        self.sessions = sessions
        self.interval = interval
        self.max_per_owner = max_per_owner
        self._lock = threading.Lock()
        self._owners: Counter[str] = Counter()
        self._pollers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Poller] = (
            weakref.WeakKeyDictionary()
        )

    def open(self, job_id: str, owner: str, key_digest: str | None, last_id: int) -> Subscriber:
        """A new stream's subscriber; TooManyRequests when its owner holds the most already."""
        with self._lock:
            held = self._owners[owner]
            if self.max_per_owner and held >= self.max_per_owner:
                raise TooManyRequests(
                    f"{held} event streams are open for this owner on this server, the most "
                    f"allowed (DESCENT_MAX_STREAMS_PER_OWNER={self.max_per_owner})",
                    fix="close streams no longer read (a page left open, a watcher left "
                    "running) or wait for their jobs to end, then retry",
                    retry_after=10,
                )
            self._owners[owner] += 1
        subscriber = Subscriber(job_id, owner, key_digest, last_id)
        subscriber.poller = self._poller()
        return subscriber

    def start(self, subscriber: Subscriber) -> None:
        """Let the poller feed it (once whatever was read on opening is on its queue)."""
        assert subscriber.poller is not None
        subscriber.poller.add(subscriber)

    def close(self, subscriber: Subscriber) -> None:
        """Release its place; twice is once (a stream's end, then its garbage collection)."""
        with self._lock:
            if subscriber.closed:
                return
            subscriber.closed = True
            self._owners[subscriber.owner] -= 1
            if self._owners[subscriber.owner] <= 0:
                del self._owners[subscriber.owner]
        if subscriber.poller is not None:
            subscriber.poller.remove(subscriber)

    def _poller(self) -> Poller:
        loop = asyncio.get_running_loop()
        poller = self._pollers.get(loop)
        if poller is None:
            poller = self._pollers[loop] = Poller(self.sessions, self.interval)
        return poller


class Poller:
    """Polls for every stream on one event loop; its task runs while any stream is open."""

    def __init__(self, sessions: Callable[[], Session], interval: float) -> None:
        self.sessions = sessions
        self.interval = interval
        self.jobs: dict[str, set[Subscriber]] = {}
        self.wake = asyncio.Event()
        self.task: asyncio.Task[None] | None = None
        self.next_key_check = 0.0

    def add(self, subscriber: Subscriber) -> None:
        self.jobs.setdefault(subscriber.job_id, set()).add(subscriber)
        self.wake.set()  # a new stream gets its first events now, not an interval later
        if self.task is None or self.task.done():
            self.task = asyncio.get_running_loop().create_task(self.run(), name="event-poller")

    def remove(self, subscriber: Subscriber) -> None:
        subscribers = self.jobs.get(subscriber.job_id)
        if subscribers is not None:
            subscribers.discard(subscriber)
            if not subscribers:
                del self.jobs[subscriber.job_id]

    async def run(self) -> None:
        while self.jobs:
            try:
                more = await self.poll_once()
            except Exception as error:  # the database away for a while: streams wait, retry
                LOG.warning(
                    "reading the event log for %d jobs' streams failed (%s: %s); retrying in %gs",
                    len(self.jobs),
                    type(error).__name__,
                    str(error)[:200],
                    RETRY_SECONDS,
                )
                await asyncio.sleep(RETRY_SECONDS)
                continue
            if not more:
                self.wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), self.interval)

    async def poll_once(self) -> bool:
        """Read once, give each stream what is new; whether a full batch was left unread."""
        # A stream that has not sent what it holds gets nothing more until it has.
        ready = {
            job_id: [s for s in subscribers if s.queue.empty()]
            for job_id, subscribers in self.jobs.items()
        }
        cursors = {job_id: min(s.cursor for s in subs) for job_id, subs in ready.items() if subs}
        digests: set[str] = set()
        if time.monotonic() >= self.next_key_check:
            self.next_key_check = time.monotonic() + KEY_CHECK_SECONDS
            digests = {s.key_digest for subs in self.jobs.values() for s in subs if s.key_digest}
        if not cursors and not digests:
            return False

        def read() -> events.Watch:
            with self.sessions() as session:
                return events.watch(session, cursors, digests, limit=BATCH)

        seen = await anyio.to_thread.run_sync(read)
        more = False
        for job_id in cursors:
            view = seen.jobs.get(job_id)
            for subscriber in ready[job_id]:
                if view is None:
                    subscriber.queue.put_nowait(GONE)
                    continue
                mine = [e for e in view.events if e.id > subscriber.cursor]
                if mine:
                    subscriber.cursor = mine[-1].id
                    subscriber.queue.put_nowait(mine)
                if view.finished and len(view.events) < BATCH:
                    subscriber.queue.put_nowait(END)
            more = more or (view is not None and len(view.events) == BATCH)
        for revoked in digests - seen.live_keys:
            for subscribers in self.jobs.values():
                for subscriber in subscribers:
                    if subscriber.key_digest == revoked:
                        subscriber.queue.put_nowait(REVOKED)
        return more
