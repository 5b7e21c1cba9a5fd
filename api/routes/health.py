from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy import text

from api.deps import SessionDep, SettingsDep

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    database: str
    auth: Literal["off", "required"] = Field(
        description="required: every /v1 request needs `Authorization: Bearer <key>`."
    )


@router.get("/healthz", response_model=Health, summary="Health check")
def healthz(session: SessionDep, settings: SettingsDep) -> Health:
    """Answers when the API is up and its database reachable, and says whether keys are needed."""
    session.execute(text("SELECT 1"))
    return Health(status="ok", database="ok", auth=settings.auth)
