"""Cross-origin front ends: the origins in ``DESCENT_CORS_ORIGINS`` may call the API from a page.

With none named (the default) no CORS header is ever sent, so a browser keeps every other
origin's scripts from reading an answer. A named origin gets Starlette's ``CORSMiddleware``:
preflights are answered before any route or key check, and an origin not on the list gets no
``Access-Control-Allow-Origin``, which the browser enforces. The API key travels in the
``Authorization`` header, never a cookie, so credentials mode stays off.

``EventSource`` cannot send headers; a page follows ``/v1/jobs/{id}/events`` with ``fetch``
and reads the body as a stream, as ``web/js/events.js`` does, which lets it send the key and
``Last-Event-ID``. Where auth is off, a plain ``EventSource`` works too.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

from core.settings import Settings

METHODS = ["GET", "POST", "DELETE", "OPTIONS"]
REQUEST_HEADERS = [
    "Authorization",
    "Content-Type",
    "Idempotency-Key",
    "Last-Event-ID",
    "If-None-Match",
    "Cache-Control",  # what an event-stream reader sends, as EventSource itself does
]
EXPOSED_HEADERS = ["Location", "ETag", "Idempotent-Replayed", "Allow", "X-Request-ID"]
PREFLIGHT_CACHE_SECONDS = 600


def install(app: FastAPI, settings: Settings) -> None:
    """Add CORS for the configured origins; call it after every other middleware (outermost),
    so that refusals made by the others (a 413, a 304) carry the headers too."""
    if not settings.cors_origins:
        return
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=METHODS,
        allow_headers=REQUEST_HEADERS,
        expose_headers=EXPOSED_HEADERS,
        max_age=PREFLIGHT_CACHE_SECONDS,
    )
