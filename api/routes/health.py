from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy import text

from api.deps import SessionDep

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    database: str


@router.get("/healthz", response_model=Health, summary="Health check")
def healthz(session: SessionDep) -> Health:
    """Answers when the API is up and its database reachable."""
    session.execute(text("SELECT 1"))
    return Health(status="ok", database="ok")
