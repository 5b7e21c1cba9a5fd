"""The ``Idempotency-Key`` header for submission routes (see services/idempotency.py)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Header, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.orm import Session

from services import idempotency

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
    """Look up a key before doing the work, and store the answer after."""

    def __init__(self, session: Session, key: str | None, route: str, payload: Any) -> None:
        self._session = session
        self._key = key
        self._route = route
        self._hash = idempotency.digest(payload) if key else ""

    def replayed(self) -> JSONResponse | None:
        if self._key is None:
            return None
        stored = idempotency.replay(self._session, self._key, self._route, self._hash)
        if stored is None:
            return None
        headers = {"Idempotent-Replayed": "true"}
        if stored.location:
            headers["Location"] = stored.location
        return JSONResponse(stored.body, status_code=stored.status_code, headers=headers)

    def remember(self, response: Response, status_code: int, answer: BaseModel) -> None:
        if self._key is None:
            return
        idempotency.remember(
            self._session,
            self._key,
            self._route,
            self._hash,
            status_code=status_code,
            body=answer.model_dump(mode="json"),
            location=response.headers.get("Location"),
        )
