"""The HTTP connection limits `descent serve` holds every client to, slow ones included.

uvicorn times out idle keep-alive connections, but nothing else: a client that sends half a
request header and then a byte every few seconds holds its connection (and a file descriptor)
for as long as it likes, and some thousands of them stop the server (a "slow-loris"). This
protocol, uvicorn's own httptools protocol with three additions, closes:

- a connection whose request headers are not complete ``header_timeout`` seconds after the
  connection opened or after the request's first byte (a total, as nginx's
  ``client_header_timeout``): dripping bytes does not extend it;
- a request whose body sends nothing for ``body_timeout`` seconds (between two reads, as
  nginx's ``client_body_timeout``; not while the app itself has paused reading);
- a connection opened while ``max_connections`` are open already, at once, before it costs
  anything more; and request headers over ``MAX_HEADER_BYTES``, with a 431.

Behind a reverse proxy (docker-compose.yml's Caddy, docs/security.md) the proxy does the same
towards the internet; these limits still hold if the port is reached directly.
"""

from __future__ import annotations

import asyncio
import logging
import resource
import time
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from core.settings import Settings

MAX_HEADER_BYTES = 64 * 1024  # request line and headers; h11 and nginx allow 16-32 KiB
SPARE_DESCRIPTORS = 256  # files the process needs beside its connections: database, models
LOG = logging.getLogger("descent.http")
LOG_EVERY_SECONDS = 10.0


class Tally:
    """One log line per kind of closing every ``LOG_EVERY_SECONDS``, with a count: under
    attack a line per connection would flood the log the way a traceback per client did."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.last: dict[str, float] = {}

    def note(self, level: int, kind: str, message: str) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + 1
        now = time.monotonic()
        if now - self.last.get(kind, -LOG_EVERY_SECONDS) >= LOG_EVERY_SECONDS:
            count, self.counts[kind], self.last[kind] = self.counts[kind], 0, now
            LOG.log(level, "%s (%d such in the last %gs)", message, count, LOG_EVERY_SECONDS)


TALLY = Tally()


def raise_open_file_limit() -> int:
    """Raise this process's soft open-file limit to its hard limit; the soft limit after."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):  # a sandbox may refuse; the lower limit stays
            pass
    return soft


def connection_cap(settings: Settings, open_files: int) -> int:
    """``max_connections``, lowered so that connections never exhaust the open-file limit: past
    that, accept() fails and even /healthz goes unanswered."""
    fits = max(open_files - SPARE_DESCRIPTORS, 1)
    return min(settings.max_connections, fits) if settings.max_connections else fits


def guarded_protocol(settings: Settings, max_connections: int) -> type[asyncio.Protocol]:
    """The protocol class to give uvicorn as ``http=``, holding these settings' limits."""
    return type(
        "GuardedHttpProtocol",
        (GuardedHttpProtocol,),
        {
            "header_timeout": settings.header_timeout_seconds,
            "body_timeout": settings.body_timeout_seconds,
            "max_connections": max_connections,
        },
    )


class GuardedHttpProtocol(HttpToolsProtocol):
    header_timeout: float = 10.0
    body_timeout: float = 30.0
    max_connections: int = 4096

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.deadline: asyncio.TimerHandle | None = None
        self.header_bytes = 0
        self.reading_headers = True  # from the connection's or a request's first byte

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        over = len(self.connections) >= self.max_connections
        super().connection_made(transport)
        if over:
            TALLY.note(
                logging.WARNING,
                "cap",
                f"closed a new connection: {len(self.connections) - 1} are open, the cap "
                "(DESCENT_MAX_CONNECTIONS)",
            )
            transport.abort()
            return
        self._arm(self.header_timeout, self._headers_too_slow)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self.reading_headers:
            self.header_bytes += len(data)
        super().data_received(data)
        # Still in the headers after parsing all of it: httptools sets no limit of its own.
        if self.reading_headers and self.header_bytes > MAX_HEADER_BYTES:
            self._refuse(431, "Request Header Fields Too Large")

    # httptools' callbacks, in the order a request goes through them.
    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.reading_headers = True
        if self.timeout_keep_alive_task is None and self.deadline is None:
            self._arm(self.header_timeout, self._headers_too_slow)

    def on_headers_complete(self) -> None:
        self.reading_headers = False
        self.header_bytes = 0
        self._disarm()
        super().on_headers_complete()
        if self.cycle is not None and self.cycle.more_body and not self.transport.is_closing():
            self._arm(self.body_timeout, self._body_stalled)

    def on_body(self, body: bytes) -> None:
        super().on_body(body)
        if not self.transport.is_closing():
            self._arm(self.body_timeout, self._body_stalled)

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # Idle now: uvicorn's keep-alive timeout runs until the next request's first byte.
        self.reading_headers = True
        self.header_bytes = 0

    def _headers_too_slow(self) -> None:
        self.deadline = None
        if self.transport.is_closing() or not self.reading_headers:
            return
        if self.cycle is not None and not self.cycle.response_complete:
            return  # a request under way (pipelined): its own timers govern
        if self.header_bytes:  # a client that said nothing at all gets no answer
            TALLY.note(
                logging.INFO,
                "headers",
                f"closed a connection from {self.client[0] if self.client else '?'}: its "
                f"request headers took over {self.header_timeout:g}s "
                "(DESCENT_HEADER_TIMEOUT_SECONDS)",
            )
            self._refuse(408, "Request Timeout")
        else:
            self.transport.close()

    def _body_stalled(self) -> None:
        self.deadline = None
        if self.transport.is_closing():
            return
        if self.flow.read_paused:  # the app has not read what came already: not the client's
            self._arm(self.body_timeout, self._body_stalled)
            return
        TALLY.note(
            logging.INFO,
            "body",
            f"closed a connection from {self.client[0] if self.client else '?'}: its request "
            f"body sent nothing for {self.body_timeout:g}s (DESCENT_BODY_TIMEOUT_SECONDS)",
        )
        self.transport.close()  # the app's receive() gets http.disconnect

    def _refuse(self, status: int, reason: str) -> None:
        if not self.transport.is_closing():
            self.transport.write(
                f"HTTP/1.1 {status} {reason}\r\nconnection: close\r\n"
                "content-length: 0\r\n\r\n".encode()
            )
            self.transport.close()

    def _arm(self, seconds: float, then: Any) -> None:
        self._disarm()
        self.deadline = self.loop.call_later(seconds, then)

    def _disarm(self) -> None:
        if self.deadline is not None:
            self.deadline.cancel()
            self.deadline = None
