from dataclasses import replace
from typing import Any

from fastapi import APIRouter, Query, Response, status
from pydantic import ValidationError
from sqlalchemy.orm import Session

from api.auth import PrincipalDep
from api.deps import BatchDep, BrokerDep, PagingDep, SessionDep, SettingsDep
from api.errors import describe_error
from api.filters import BatchJobFilterDep
from api.idempotency import IdempotencyKeyHeader, Idempotent
from api.schemas.batches import BatchCreate, BatchList, BatchPublic
from api.schemas.jobs import JobList, JobPublic
from core.errors import InvalidInput
from models import Batch
from services import batch_views, batches, jobs, specs, sweeps
from training.spec import JobSpec

router = APIRouter(prefix="/v1/batches", tags=["batches"])

DEFAULT_METRIC = "val_loss"
MetricQuery = Query(
    default=DEFAULT_METRIC,
    pattern=r"^[a-z][a-z0-9_]*$",
    description="The metric to rank by: val_loss, val_accuracy, loss, accuracy, ...",
)


def parse_items(body: BatchCreate) -> list[JobSpec]:
    """Expand the batch into specs and validate every one; refuse the whole batch if any fails."""
    if body.base is not None:
        items = sweeps.expand(body.base, body.vary, body.seeds)
    else:
        items = sweeps.with_seeds(body.specs or [], body.seeds)
    parsed: list[JobSpec] = []
    errors: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        try:
            parsed.append(JobSpec.model_validate(item))
        except ValidationError as exc:
            errors.extend(
                {"item": index, "name": item.get("name"), **describe_error(error)}
                for error in exc.errors()
            )
    if errors:
        raise specs.refuse_batch(
            InvalidInput,
            errors,
            len(items),
            "are invalid",
            fix="correct the items listed in errors (item is the 0-based position in the "
            "expanded batch, seeds outermost) and submit the batch again",
        )
    return parsed


def to_public(session: Session, batch: Batch, metric: str) -> BatchPublic:
    return BatchPublic.model_validate(batch_views.view(session, batch, metric))


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=BatchPublic,
    summary="Submit a batch of jobs",
)
def submit_batch(
    body: BatchCreate,
    session: SessionDep,
    settings: SettingsDep,
    broker: BrokerDep,
    response: Response,
    principal: PrincipalDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Any:
    """Validate every item first, then create all the jobs at once; one bad item refuses all."""
    once = Idempotent(session, idempotency_key, "POST /v1/batches", principal.owner, body)
    if (replayed := once.replayed()) is not None:
        return replayed
    checked = specs.check_all(session, parse_items(body), settings, principal.owner)
    batch = batches.create(
        session,
        [item.spec for item in checked],
        name=body.name,
        max_parallel=body.max_parallel,
        details=[specs.job_details(item) for item in checked],
        owner=principal.owner,
        settings=settings,
        broker=broker,
    )
    answer = to_public(session, batch, DEFAULT_METRIC)
    return once.accepted(response, f"/v1/batches/{batch.id}", answer)


@router.get("", response_model=BatchList, summary="List batches")
def list_batches(session: SessionDep, principal: PrincipalDep, page: PagingDep) -> BatchList:
    """Batches, newest first, each with its status and its jobs' counts by status."""
    found, total = batches.page(
        session, limit=page.limit, offset=page.offset, owner=principal.scope
    )
    return page.answer(BatchList, batch_views.summaries(session, found), total)


@router.get("/{batch_id}", response_model=BatchPublic, summary="Get a batch")
def get_batch(batch: BatchDep, session: SessionDep, metric: str = MetricQuery) -> BatchPublic:
    """Counts by status, the jobs, a leaderboard by each job's best epoch, and aligned curves."""
    return to_public(session, batch, metric)


@router.get("/{batch_id}/jobs", response_model=JobList, summary="List a batch's jobs")
def list_batch_jobs(
    batch: BatchDep, session: SessionDep, where: BatchJobFilterDep, page: PagingDep
) -> JobList:
    """The batch's jobs in full, in the batch's order unless sorted otherwise, a page at a time."""
    found, total = jobs.page(
        session, replace(where, batch_id=batch.id), limit=page.limit, offset=page.offset
    )
    return page.answer(JobList, [JobPublic.model_validate(job) for job in found], total)


@router.post("/{batch_id}/cancel", response_model=BatchPublic, summary="Cancel a batch")
def cancel_batch(batch: BatchDep, session: SessionDep) -> BatchPublic:
    """Cancel the batch's queued jobs at once, stop its running ones, send no further job."""
    return to_public(session, batches.cancel(session, batch.id), DEFAULT_METRIC)
