"""Idempotent submissions: a request retried with the same ``Idempotency-Key`` gets the answer
the first one got, and creates nothing new.

The answer is stored in the same transaction as what the request created, so either both exist
or neither does. Keys are scoped to the route they were used on.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.errors import Conflict, InvalidInput
from models import IdempotencyKey


def digest(payload: Any) -> str:
    """The request body, canonically: the same JSON in another key order is the same request."""
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def replay(session: Session, key: str, route: str, request_hash: str) -> IdempotencyKey | None:
    """The stored answer for ``key`` on ``route``, or None if the key is new."""
    stored = session.get(IdempotencyKey, (key, route))
    if stored is not None and stored.request_hash != request_hash:
        raise InvalidInput(
            f"the Idempotency-Key {key!r} was already used on {route} with a different body; "
            "a key names one request",
            fix="send the original body to get the original answer, or use a new key (a fresh "
            "UUID) for a new request",
            code="idempotency_key_reused",
        )
    return stored


def remember(
    session: Session,
    key: str,
    route: str,
    request_hash: str,
    *,
    status_code: int,
    body: Any,
    location: str | None,
) -> None:
    session.add(
        IdempotencyKey(
            key=key,
            route=route,
            request_hash=request_hash,
            status_code=status_code,
            body=body,
            location=location,
        )
    )
    try:
        session.flush()
    except IntegrityError as exc:  # the same key, sent twice at once: the other one won
        raise Conflict(
            f"another request with the Idempotency-Key {key!r} was being handled at the same time",
            fix="retry the request: the retry gets that request's answer",
            code="idempotency_key_in_use",
        ) from exc
