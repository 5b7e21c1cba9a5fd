"""The ``Idempotency-Key`` header for submission routes (see services/idempotency.py)."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from fastapi import Header, Response, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.orm import Session

from services import idempotency

T = TypeVar("T", bound=BaseModel)

IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        pattern=r"^[\x21-\x7e]+$",
        description="Any unique string (a UUID): a retry with the same key and body gets the "
        "first answer and creates nothing; the same key with another body is refused (422).",
    ),
]


class Idempotent:
    """Look up a key before doing the work, and store the answer after.

    A key is scoped to its route and owner: one owner's key never replays another's."""

    def __init__(
        self, session: Session, key: str | None, route: str, owner: str, payload: BaseModel | Any
    ) -> None:
        """``payload``: the request as sent (a model), or a JSON value that stands for it."""
        self._session = session
        self._key = key
        self._route = f"{route} as {owner}"
        if isinstance(payload, BaseModel):
            payload = payload.model_dump(mode="json")
        self._hash = idempotency.digest(payload) if key else ""

    def replayed(self) -> JSONResponse | None:
        """The first answer to this key, or None: do the work, then call ``accepted``."""
        if self._key is None:
            return None
        stored = idempotency.replay(self._session, self._key, self._route, self._hash)
        if stored is None:
            return None
        headers = {"Idempotent-Replayed": "true"}
        if stored.location:
            headers["Location"] = stored.location
        return JSONResponse(stored.body, status_code=stored.status_code, headers=headers)

    def accepted(
        self,
        response: Response,
        location: str,
        answer: T,
        status_code: int = status.HTTP_202_ACCEPTED,
    ) -> T:
        """Answer ``status_code`` (202 Accepted) with ``location``, and remember that answer
        under the key."""
        response.headers["Location"] = location
        if self._key is not None:
            idempotency.remember(
                self._session,
                self._key,
                self._route,
                self._hash,
                status_code=status_code,
                body=answer.model_dump(mode="json"),
                location=location,
            )
        return answer
