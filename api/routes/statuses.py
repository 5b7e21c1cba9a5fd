from fastapi import APIRouter
from pydantic import BaseModel, Field

from core.statuses import JobStatus

router = APIRouter(prefix="/v1/statuses", tags=["jobs"])


class JobStatuses(BaseModel):
    statuses: list[JobStatus] = Field(
        description="Every status a job can have, in lifecycle order."
    )
    finished: list[JobStatus] = Field(description="The statuses a job moves no more from.")


@router.get("", response_model=JobStatuses, summary="List job statuses")
def list_statuses() -> JobStatuses:
    """Every job status, and which of them are final: the one list clients and the page read."""
    return JobStatuses(
        statuses=[status.value for status in JobStatus],
        finished=[status.value for status in JobStatus if status.finished],
    )
