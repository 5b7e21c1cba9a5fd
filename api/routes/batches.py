import re
from dataclasses import replace
from typing import Any

from fastapi import APIRouter, Query, Response, status
from pydantic import ValidationError
from sqlalchemy.orm import Session

from api.auth import PrincipalDep
from api.deps import BatchDep, BrokerDep, PagingDep, SessionDep, SettingsDep
from api.errors import MAX_ERRORS, describe_error
from api.filters import BatchJobFilterDep
from api.idempotency import IdempotencyKeyHeader, Idempotent
from api.json_bodies import BoundedJsonRoute
from api.schemas.batches import BatchCreate, BatchList, BatchPublic
from api.schemas.jobs import JobList, JobPublic
from core.errors import InvalidInput
from models import Batch
from services import batch_views, batches, jobs, specs, sweeps
from training.spec import JobSpec

router = APIRouter(prefix="/v1/batches", tags=["batches"], route_class=BoundedJsonRoute)

DEFAULT_METRIC = "val_loss"
MetricQuery = Query(
    default=DEFAULT_METRIC,
    pattern=r"^[a-z][a-z0-9_]*$",
    description="The metric to rank by: val_loss, val_accuracy, loss, accuracy, ...",
)


def parse_items(body: BatchCreate) -> list[JobSpec]:
    """Expand the batch into specs and validate every one; refuse the whole batch if any fails.

    Validation comes before expansion: the base alone first (what no vary path can change
    must already be right), then each point of the grid once, and only then one copy per
    seed, which differs in its seed and name alone. Nothing is deep-copied, so a request
    costs time and memory in proportion to its size, not to its size times its items."""
    seeds: list[int | None] = list(body.seeds or [None])
    if body.base is not None:
        sweeps.check_size(sweeps.grid_size(body.vary) * len(seeds))
        sweeps.parse_paths(body.vary)  # a bad path is refused before the base is looked at
        _check_base(body.base, body.vary, body.seeds)
        grid = sweeps.points(body.base, body.vary)
        first = [
            sweeps.seeded(spec, body.base, values, seeds[0], body.seeds) for values, spec in grid
        ]

        def renamed(index: int, seed: int | None) -> dict[str, Any]:
            name = sweeps.name_of(body.base or {}, grid[index][0], seed, body.seeds)
            return {"seed": seed} | ({"name": name} if name is not None else {})
    else:
        sweeps.check_size(len(body.specs or []) * len(seeds))
        first = sweeps.with_seeds(body.specs or [], seeds[:1] if body.seeds else None)

        def renamed(index: int, seed: int | None) -> dict[str, Any]:
            return {"seed": seed}

    parsed, errors = _validate(first)
    if errors:
        raise specs.refuse_batch(
            InvalidInput,
            errors,
            len(first) * len(seeds),
            "are invalid",
            fix="correct the items listed in errors (item is the 0-based position in the "
            "expanded batch, seeds outermost) and submit the batch again",
        )
    if len(seeds) == 1:
        return parsed
    # The other seeds' items: the validated specs with their seed (and name) replaced, both
    # valid already (a seed is checked by BatchCreate, a name is cut to its length).
    return parsed + [
        spec.model_copy(update=renamed(index, seed))
        for seed in seeds[1:]
        for index, spec in enumerate(parsed)
    ]


def _validate(items: list[dict[str, Any]]) -> tuple[list[JobSpec], list[dict[str, Any]]]:
    parsed: list[JobSpec] = []
    errors: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        try:
            parsed.append(JobSpec.model_validate(item))
        except ValidationError as exc:
            errors.extend(
                {"item": index, "name": _name(item), **describe_error(error)}
                for error in exc.errors()[: MAX_ERRORS - len(errors)]
            )
    return parsed, errors


def _name(item: dict[str, Any]) -> Any:
    name = item.get("name")
    return name if isinstance(name, str) else None


def _check_base(base: dict[str, Any], vary: dict[str, list[Any]], seeds: Any) -> None:
    """Refuse a base whose errors no vary path (nor the seeds) can change, before any item is
    built from it: one bad base is one error, not one per item."""
    try:
        JobSpec.model_validate(base)
    except ValidationError as exc:
        changed = list(sweeps.parse_paths(vary).values())
        changed += [["seed"]] * bool(seeds) + [["name"]] * bool(vary)
        errors = [
            {**described, "field": f"base.{described['field']}"}
            for error in exc.errors()[:MAX_ERRORS]
            if not _touches(_parts(described := describe_error(error)), changed)
        ]
        if errors:
            summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
            raise InvalidInput(
                f"the batch's base is invalid, so none of its items was created: {summary}",
                fix="correct the fields of base listed in errors (a vary path may leave out "
                "or set wrongly only the fields it names) and submit the batch again",
                errors=errors,
                code="spec_invalid",
            ) from None


def _parts(described: dict[str, Any]) -> list[str | int]:
    """An error's field ("model.layers[0].units") as path parts; "body" is the whole spec."""
    field = described["field"]
    if field == "body":
        return []
    return [int(part) if part.isdigit() else part for part in re.findall(r"[^.\[\]]+", field)]


def _touches(field: list[str | int], changed: list[list[str | int]]) -> bool:
    """Whether a vary path sets this field, something in it or something around it."""
    return any(field[: len(path)] == path or path[: len(field)] == field for path in changed)


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
