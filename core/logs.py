"""Logging for every Descent process: one line per record, as JSON or for a person to read.

``configure`` is called once at a process's entry point (``descent serve``, the Celery worker's
boot) with ``DESCENT_LOG_FORMAT``. Each line carries what is known of the work it belongs to:
``request_id``, ``job_id``, ``attempt``, ``worker``, ``owner``. Those fields live in a context
variable, so they follow a request or a task through every function, and through the threads a
request hands work to (FastAPI's thread pool copies the context). A scope is one dict: the API
starts one per request (api/request_ids.py), the worker one per task; ``bind`` adds to it, and
whatever shares the scope sees the addition.

Nothing secret reaches a line: the formatters pass every line, traceback included, through
``redact`` (API keys sent as ``Bearer``, presigned URLs' signatures, URLs' passwords), and no
code logs request headers.

The standard library rather than structlog: the lines come mostly from other people's loggers
(uvicorn, Celery, SQLAlchemy, kombu), which log through ``logging`` anyway; a ``Formatter`` and
a ``Filter`` on the one root handler format all of them the same way, with no new dependency.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Literal

LogFormat = Literal["console", "json"]
FIELDS = ("request_id", "job_id", "attempt", "worker", "owner")

_scope: ContextVar[dict[str, Any] | None] = ContextVar("descent_log_fields", default=None)
_process_fields: dict[str, Any] = {}  # fields true of the whole process (a worker's name)

# What must never reach a log, each with what is written instead.
SECRETS = (
    # An API key or any other bearer token.
    (re.compile(r"(?i)\b(bearer\s+)[^\s'\",;\\]+"), r"\1[redacted]"),
    # A presigned URL's signature and credential (S3, MinIO): the URL stays readable.
    (
        re.compile(r"(?i)\b(X-Amz-(?:Signature|Credential|Security-Token)=)[^&\s'\"]+"),
        r"\1[redacted]",
    ),
    (re.compile(r"(?i)\b(Signature=)[^&\s'\"]+"), r"\1[redacted]"),
    # The password of a URL (a database's, a broker's): scheme://user:password@host.
    (re.compile(r"([a-z][a-z0-9+.-]*://[^:/@\s'\"]*:)[^@/\s'\"]+@"), r"\1[redacted]@"),
)


def redact(text: str) -> str:
    """``text`` with every secret it holds replaced by ``[redacted]``."""
    for pattern, replacement in SECRETS:
        text = pattern.sub(replacement, text)
    return text


def fields() -> dict[str, Any]:
    """The fields known where this is called: the process's, then the scope's."""
    return {**_process_fields, **(_scope.get() or {})}


def start_scope(**values: Any) -> None:
    """Start a fresh scope in this context (one request): it holds ``values`` and nothing else
    of the scope before it. For a task or context of its own, whose context ends with it."""
    _scope.set(dict(values))


@contextmanager
def bound(**values: Any) -> Iterator[None]:
    """A scope for the ``with`` block: the fields around it plus ``values``."""
    token = _scope.set({**(_scope.get() or {}), **values})
    try:
        yield
    finally:
        _scope.reset(token)


def bind(**values: Any) -> None:
    """Add ``values`` to the current scope, where everything that shares it sees them (the
    request's owner, found in a thread of FastAPI's pool, is on the request's access line)."""
    scope = _scope.get()
    if scope is None:
        _scope.set(dict(values))
    else:
        scope.update(values)


def bind_process(**values: Any) -> None:
    """Fields true of every line of this process and the children it forks (a worker's name)."""
    _process_fields.update(values)


class ContextFilter(logging.Filter):
    """Puts the known fields on every record (``record.request_id`` ...; None where unknown)."""

    def filter(self, record: logging.LogRecord) -> bool:
        known = fields()
        for name in FIELDS:
            if getattr(record, name, None) is None:
                setattr(record, name, known.get(name))
        return True


class ConsoleFormatter(logging.Formatter):
    """``time LEVEL logger message [request_id=... job_id=...]`` for a person at a terminal."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        known = [f"{name}={value}" for name in FIELDS if (value := getattr(record, name, None))]
        if known:
            head, newline, rest = line.partition("\n")  # a traceback stays below its line
            line = f"{head} [{' '.join(known)}]{newline}{rest}"
        return redact(line)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``time``, ``level``, ``logger``, ``message``, the known
    fields, and ``exception`` (the traceback) where there is one."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        for name in FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["exception"] = redact(self.formatException(record.exc_info))
        elif record.exc_text:
            line["exception"] = redact(record.exc_text)
        if record.stack_info:
            line["stack"] = redact(self.formatStack(record.stack_info))
        # Each text is redacted before encoding, so that no escape is cut in two.
        return json.dumps(line, default=str, ensure_ascii=False)


FORMATTERS: dict[str, type[logging.Formatter]] = {
    "console": ConsoleFormatter,
    "json": JsonFormatter,
}


def configure(log_format: LogFormat = "console", level: int | str = logging.INFO) -> None:
    """Send every record of this process to stderr, one line each in ``log_format``.

    Replaces the root logger's handlers, so calling it again (a forked child reconfiguring)
    leaves one handler, not two. Other loggers keep no handlers of their own and propagate."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(FORMATTERS[log_format]())
    handler.addFilter(ContextFilter())
    root = logging.getLogger()
    for old in root.handlers[:]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    logging.captureWarnings(True)
