from fastapi import APIRouter, Query, Response, status

from api.deps import JobDep, SessionDep
from api.schemas.jobs import History, JobList, JobPublic, TransitionPublic
from models import Job, JobStatus
from services import epochs, jobs
from training.spec import JobSpec

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])


def to_public(job: Job) -> JobPublic:
    return JobPublic(
        id=job.id,
        name=job.name,
        status=job.status,
        spec=JobSpec.model_validate(job.spec),
        error=job.error,
        final_metrics=job.final_metrics,
        model_id=job.id if job.status == JobStatus.succeeded else None,
        batch_id=job.batch_id,
        created_at=job.created_at,
        updated_at=job.updated_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        transitions=[TransitionPublic.model_validate(t) for t in job.transitions],
    )


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=JobPublic,
    summary="Submit a training job",
)
def submit_job(spec: JobSpec, session: SessionDep, response: Response) -> JobPublic:
    """Validate the spec, store the job as queued and hand it to a worker."""
    job = jobs.submit(session, spec)
    response.headers["Location"] = f"/v1/jobs/{job.id}"
    return to_public(job)


@router.get("", response_model=JobList, summary="List jobs")
def list_jobs(
    session: SessionDep,
    limit: int = Query(default=20, ge=1, le=200),
    offset: int = Query(default=0, ge=0),
) -> JobList:
    """Jobs, newest first, a page at a time."""
    items, total = jobs.page(session, limit=limit, offset=offset)
    return JobList(items=[to_public(j) for j in items], total=total, limit=limit, offset=offset)


@router.get("/{job_id}", response_model=JobPublic, summary="Get a job")
def get_job(job: JobDep) -> JobPublic:
    """A job's spec, status, timestamps, final metrics and, once succeeded, its model id."""
    return to_public(job)


@router.get("/{job_id}/history", response_model=History, summary="Get a job's epoch history")
def get_history(job: JobDep, session: SessionDep) -> History:
    """One row per finished epoch, epoch 0 being the untrained model; grows while the job runs."""
    rows = epochs.history(session, job.id)
    return History.model_validate(
        {"job_id": job.id, "status": job.status, "epochs": rows}, from_attributes=True
    )
