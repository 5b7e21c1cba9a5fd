from typing import Any

from fastapi import APIRouter, Response, status

from api.auth import PrincipalDep
from api.deps import BrokerDep, JobDep, PagingDep, SessionDep, SettingsDep
from api.filters import JobFilterDep
from api.idempotency import IdempotencyKeyHeader, Idempotent
from api.json_bodies import BoundedJsonRoute
from api.schemas.jobs import History, JobList, JobPublic
from models import Job, JobStatus
from services import epochs, jobs, placement, specs
from training.diagnoses import diagnose
from training.spec import JobSpec

router = APIRouter(prefix="/v1/jobs", tags=["jobs"], route_class=BoundedJsonRoute)


def to_public(job: Job, queue_position: int | None = None) -> JobPublic:
    return JobPublic.model_validate(job).model_copy(update={"queue_position": queue_position})


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
    broker: BrokerDep,
    response: Response,
    principal: PrincipalDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Any:
    """Check the spec against its data set, store the job as queued and hand it to a worker."""
    once = Idempotent(session, idempotency_key, "POST /v1/jobs", principal.owner, spec)
    if (replayed := once.replayed()) is not None:
        return replayed
    checked = specs.check(session, spec, settings, principal.owner)
    job = jobs.submit(
        session,
        checked.spec,
        owner=principal.owner,
        settings=settings,
        broker=broker,
        **specs.job_details(checked),
    )
    return once.accepted(response, f"/v1/jobs/{job.id}", to_public(job))


@router.get("", response_model=JobList, summary="List jobs")
def list_jobs(
    session: SessionDep, principal: PrincipalDep, where: JobFilterDep, page: PagingDep
) -> JobList:
    """Jobs, newest first unless sorted otherwise, filtered, a page at a time."""
    items, total = jobs.page(
        session, where, limit=page.limit, offset=page.offset, owner=principal.scope
    )
    return page.answer(JobList, [to_public(job) for job in items], total)


@router.get("/{job_id}", response_model=JobPublic, summary="Get a job")
def get_job(job: JobDep, session: SessionDep) -> JobPublic:
    """A job's spec, status, place in line, timestamps, where it trained and its model id."""
    return to_public(job, placement.queue_position(session, job))


@router.get("/{job_id}/history", response_model=History, summary="Get a job's epoch history")
def get_history(job: JobDep, session: SessionDep) -> History:
    """One row per finished epoch, epoch 0 being the untrained model, with the verdict and the
    diagnoses drawn from them (docs/diagnoses.md); grows while the job runs."""
    found = epochs.job_history(session, job.id)
    rows = [epochs.as_row(record) for record in found.epochs]
    summary = job.summary or {}
    verdict, diagnoses = diagnose(
        rows,
        JobSpec.model_validate(job.spec),
        summary.get("task"),
        found.status,
        classes=len(summary.get("class_names") or []) or None,
    )
    return History.model_validate(
        {
            "job_id": job.id,
            "status": found.status,
            "best_epoch": found.best_epoch,
            "overfitting_since": found.overfitting_since,
            "epochs": rows,
            "verdict": verdict.as_dict(),
            "diagnoses": [diagnosis.as_dict() for diagnosis in diagnoses],
        }
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
