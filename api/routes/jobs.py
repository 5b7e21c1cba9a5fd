from typing import Any

from fastapi import APIRouter, Query, Response, status

from api.auth import PrincipalDep
from api.deps import JobDep, SessionDep, SettingsDep
from api.idempotency import IdempotencyKeyHeader, Idempotent
from api.schemas.jobs import History, JobList, JobPublic, TransitionPublic
from models import Job, JobStatus
from services import epochs, jobs, placement, specs
from training.spec import JobSpec

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])


def to_public(job: Job, queue_position: int | None = None) -> JobPublic:
    return JobPublic(
        id=job.id,
        name=job.name,
        status=job.status,
        spec=JobSpec.model_validate(job.spec),
        summary=job.summary,
        warnings=job.warnings or [],
        error=job.error,
        final_metrics=job.final_metrics,
        model_id=job.id if _has_model(job) else None,
        best_epoch=job.best_epoch,
        attempts=job.attempts or 0,
        checkpoint_epoch=job.checkpoint_epoch,
        overfitting_since=job.overfitting_since,
        batch_id=job.batch_id,
        queue=job.queue,
        queue_position=queue_position,
        worker=job.worker,
        host=job.host,
        device=job.device,
        created_at=job.created_at,
        updated_at=job.updated_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        transitions=[TransitionPublic.model_validate(t) for t in job.transitions],
    )


def _has_model(job: Job) -> bool:
    # A job cancelled while running keeps its last weights as a model; its final metrics are
    # set in the same transaction that registers that model.
    cancelled_with_model = job.status == JobStatus.cancelled and job.final_metrics is not None
    return job.status == JobStatus.succeeded or cancelled_with_model


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=JobPublic,
    summary="Submit a training job",
)
def submit_job(
    spec: JobSpec,
    session: SessionDep,
    settings: SettingsDep,
    response: Response,
    principal: PrincipalDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Any:
    """Check the spec against its data set, store the job as queued and hand it to a worker."""
    once = Idempotent(session, idempotency_key, "POST /v1/jobs", principal.owner, spec)
    if (replayed := once.replayed()) is not None:
        return replayed
    checked = specs.check(session, spec, settings, principal.owner)
    job = jobs.submit(session, checked.spec, owner=principal.owner, **specs.job_details(checked))
    return once.accepted(response, f"/v1/jobs/{job.id}", to_public(job))


@router.get("", response_model=JobList, summary="List jobs")
def list_jobs(
    session: SessionDep,
    principal: PrincipalDep,
    limit: int = Query(default=20, ge=1, le=200),
    offset: int = Query(default=0, ge=0, le=1_000_000_000),
) -> JobList:
    """Jobs, newest first, a page at a time."""
    items, total = jobs.page(session, limit=limit, offset=offset, owner=principal.scope)
    return JobList(items=[to_public(j) for j in items], total=total, limit=limit, offset=offset)


@router.get("/{job_id}", response_model=JobPublic, summary="Get a job")
def get_job(job: JobDep, session: SessionDep) -> JobPublic:
    """A job's spec, status, place in line, timestamps, where it trained and its model id."""
    return to_public(job, placement.queue_position(session, job))


@router.get("/{job_id}/history", response_model=History, summary="Get a job's epoch history")
def get_history(job: JobDep, session: SessionDep) -> History:
    """One row per finished epoch, epoch 0 being the untrained model; grows while the job runs."""
    found = epochs.job_history(session, job.id)
    return History.model_validate(
        {
            "job_id": job.id,
            "status": found.status,
            "best_epoch": found.best_epoch,
            "overfitting_since": found.overfitting_since,
            "epochs": found.epochs,
        },
        from_attributes=True,
    )


@router.post(
    "/{job_id}/cancel",
    response_model=JobPublic,
    summary="Cancel a job",
    responses={
        200: {"description": "The job was queued and is now cancelled."},
        202: {"description": "The job is running and stops within one batch (cancelling)."},
        409: {"description": "The job has already finished; the body says how."},
    },
)
def cancel_job(
    job_id: str, session: SessionDep, response: Response, principal: PrincipalDep
) -> JobPublic:
    """Cancel a queued job at once, or stop a running one after its current batch."""
    job = jobs.cancel(session, job_id, principal.scope)
    if job.status == JobStatus.cancelling:
        response.status_code = status.HTTP_202_ACCEPTED
    return to_public(job)
