"""Liveness and readiness.

``/healthz`` is liveness: the process answers (and says whether keys are needed). It stays
cheap, for a probe that restarts a process that stopped answering. ``/readyz`` is readiness:
the database, the broker and the artifact store each answer in time (api/readiness.py), or
the server says which did not, for a probe that sends no traffic to a server that cannot work.
"""

from enum import StrEnum
from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlalchemy import text

from api.deps import SessionDep, SettingsDep
from api.readiness import Readiness, not_ready

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    database: str
    auth: Literal["off", "required"] = Field(
        description="required: every /v1 request needs `Authorization: Bearer <key>`."
    )


class ReadyStatus(StrEnum):
    """What a ready server says (a one-value enum: generated clients type it as such)."""

    ready = "ready"


class CheckResult(StrEnum):
    ok = "ok"


class Ready(BaseModel):
    status: ReadyStatus
    checks: dict[str, CheckResult] = Field(
        description="Each part the server needs, and how it answered: database, broker, "
        "artifact_store.",
        examples=[{"database": "ok", "broker": "ok", "artifact_store": "ok"}],
    )


@router.get("/healthz", response_model=Health, summary="Health check")
def healthz(session: SessionDep, settings: SettingsDep) -> Health:
    """Answers when the API is up and its database reachable, and says whether keys are needed."""
    session.execute(text("SELECT 1"))
    return Health(status="ok", database="ok", auth=settings.auth)


@router.get(
    "/readyz",
    response_model=Ready,
    summary="Readiness check",
    responses={503: {"description": "A part the server needs did not answer in time."}},
)
async def readyz(request: Request) -> Ready:
    """Answers 200 when the database, the broker and the artifact store all answer; else 503."""
    readiness: Readiness = request.app.state.readiness
    failed = await readiness.failures()
    if failed:
        raise not_ready(failed)
    return Ready(status="ready", checks=dict.fromkeys(readiness.parts, "ok"))
