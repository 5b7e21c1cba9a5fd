"""Searches: a base spec, a space of fields to search, a metric and a budget; the service
samples trials, runs them as jobs and stops the losers early (services/searches.py)."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
from fastapi import APIRouter, Path, Request, Response, status
from pydantic import ValidationError
from sqlalchemy.orm import Session
from sse_starlette import EventSourceResponse, ServerSentEvent

from api.auth import PrincipalDep, authenticate
from api.deps import BrokerDep, PagingDep, SessionDep, SettingsDep
from api.errors import MAX_ERRORS, describe_error
from api.idempotency import IdempotencyKeyHeader, Idempotent
from api.json_bodies import BoundedJsonRoute
from api.schemas.searches import Leaderboard, SearchCreate, SearchList, SearchPublic
from core.errors import InvalidInput
from core.settings import Settings
from services import early_stopping, search_space, searches, specs
from training.spec import JobSpec

router = APIRouter(prefix="/v1/searches", tags=["searches"], route_class=BoundedJsonRoute)

POLL_SECONDS = 1.0
TrialNumber = Path(ge=0, le=10_000, description="The trial's number (0 for the first).")


def checked_spec(
    session: Session, body: SearchCreate, settings: Settings, owner: str
) -> dict[str, Any]:
    """The search as the service keeps it, once its space and budget are checked: a space that
    can produce an invalid spec, or a metric the trials will not record, is refused."""
    space = {path: rule.model_dump() for path, rule in body.space.items()}
    dimensions = search_space.parse(space)
    max_trials = body.max_trials
    if body.sampler.type == "grid":
        size = search_space.check_grid(dimensions)
        max_trials = min(max_trials or size, size)
    assert max_trials is not None  # SearchCreate requires it otherwise
    probe = search_space.probes(dimensions)[0]
    first = search_space.with_params(body.base, dimensions, probe)
    resolved = _check_first(session, first, settings, owner, dimensions, probe)

    def validate(item: dict[str, Any]) -> list[dict[str, Any]]:
        try:
            specs.check(session, JobSpec.model_validate(item), settings, owner)
        except ValidationError as exc:
            return [describe_error(error) for error in exc.errors()[:MAX_ERRORS]]
        except InvalidInput as error:
            return list(error.errors or [{"field": "spec", "message": error.detail}])
        return []

    search_space.check(body.base, dimensions, validate)
    metrics = ["loss", *(resolved.spec.metrics or [])]
    if resolved.spec.dataset.validation != "none":
        metrics += [f"val_{name}" for name in metrics]
    if body.metric not in metrics:
        raise InvalidInput(
            f"metric {body.metric!r} is not one the trials record; they record "
            + ", ".join(metrics),
            fix="name one of those metrics",
            errors=[{"field": "metric", "message": "not recorded", "allowed": metrics}],
            code="search_space_invalid",
        )
    epochs = resolved.spec.epochs
    rule = body.early_stopping
    rungs = rule.rungs
    if rungs is None:
        rungs = early_stopping.default_rungs(rule.type, epochs, rule.reduction_factor)
    rungs = sorted({r for r in rungs if r < epochs}) if rule.type != "none" else []
    direction = "minimize" if searches.minimizes(body.metric, body.direction) else "maximize"
    return {
        "base": body.base,
        "space": space,
        "metric": body.metric,
        "direction": direction,
        "sampler": body.sampler.model_dump(),
        "max_trials": max_trials,
        "max_parallel": body.max_parallel,
        "max_epochs_total": body.max_epochs_total,
        "early_stopping": {**rule.model_dump(), "rungs": rungs},
        "epochs": epochs,
    }


def _check_first(
    session: Session,
    item: dict[str, Any],
    settings: Settings,
    owner: str,
    dimensions: list[search_space.Dimension],
    probe: dict[str, Any],
) -> Any:
    """The base with the space's first values: an error in a field the space sets is the
    space's (naming its path and value), any other the base's."""
    try:
        return specs.check(session, JobSpec.model_validate(item), settings, owner)
    except ValidationError as exc:
        errors = [describe_error(error) for error in exc.errors()[:MAX_ERRORS]]
    except InvalidInput as error:
        errors = list(error.errors or [])
        if not errors:
            raise
    for e in errors:
        field = [int(p) if p.isdigit() else p for p in re.findall(r"[^.\[\]]+", e["field"])]
        for d in dimensions:
            if field[: len(d.parts)] == d.parts or d.parts[: len(field)] == field:
                raise InvalidInput(
                    f"the space can produce an invalid spec: with {d.path}="
                    f"{probe[d.path]!r}, {e['field']}: {e['message']}",
                    fix="narrow the range or drop the choice named in errors and submit the "
                    "search again",
                    errors=[
                        {
                            **e,
                            "field": f"space.{d.path}",
                            "spec_field": e["field"],
                            "value": probe[d.path],
                        }
                    ],  # fmt: skip
                    code="search_space_invalid",
                )
    errors = [{**e, "field": f"base.{e.get('field', '')}"} for e in errors]
    summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
    raise InvalidInput(
        f"the search's base is invalid, so no trial was created: {summary}",
        fix="correct the fields of base listed in errors and submit the search again",
        errors=errors,
        code="spec_invalid",
    )


def to_public(session: Session, search: Any) -> SearchPublic:
    return SearchPublic.model_validate(searches.view(session, search))


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=SearchPublic,
    summary="Submit a search",
)
def submit_search(
    body: SearchCreate,
    session: SessionDep,
    settings: SettingsDep,
    broker: BrokerDep,
    response: Response,
    principal: PrincipalDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Any:
    """Check the space (every choice and both ends of every range must give a valid spec),
    then start the first trials; the others start as trials end."""
    once = Idempotent(session, idempotency_key, "POST /v1/searches", principal.owner, body)
    if (replayed := once.replayed()) is not None:
        return replayed
    spec = checked_spec(session, body, settings, principal.owner)
    search = searches.create(
        session, spec, name=body.name, owner=principal.owner, settings=settings, broker=broker
    )
    return once.accepted(response, f"/v1/searches/{search.id}", to_public(session, search))


@router.get("", response_model=SearchList, summary="List searches")
def list_searches(session: SessionDep, principal: PrincipalDep, page: PagingDep) -> SearchList:
    """Searches, newest first, each with its trials."""
    found, total = searches.page(
        session, limit=page.limit, offset=page.offset, owner=principal.scope
    )
    return page.answer(SearchList, [to_public(session, s) for s in found], total)


@router.get("/{search_id}", response_model=SearchPublic, summary="Get a search")
def get_search(search_id: str, session: SessionDep, principal: PrincipalDep) -> SearchPublic:
    """Its trials (parameters, status, best value and epoch, where they were stopped and why),
    the best trial, the budget spent and the order in which results arrived."""
    return to_public(session, searches.get(session, search_id, principal.scope))


@router.get("/{search_id}/leaderboard", response_model=Leaderboard, summary="Rank a search")
def get_search_leaderboard(
    search_id: str, session: SessionDep, principal: PrincipalDep
) -> Leaderboard:
    """The trials with a value, best first."""
    view = searches.view(session, searches.get(session, search_id, principal.scope))
    ranked = searches.leaderboard(view["trials"], view["direction"] == "minimize")
    return Leaderboard(metric=view["metric"], direction=view["direction"], trials=ranked)


@router.post("/{search_id}/cancel", response_model=SearchPublic, summary="Cancel a search")
def cancel_search(search_id: str, session: SessionDep, principal: PrincipalDep) -> SearchPublic:
    """Start no further trial; cancel the queued ones and stop the running ones."""
    return to_public(session, searches.cancel(session, search_id, principal.scope))


@router.post(
    "/{search_id}/trials/{number}/resume",
    response_model=SearchPublic,
    summary="Resume a trial stopped early",
)
def resume_trial(
    search_id: str,
    session: SessionDep,
    broker: BrokerDep,
    principal: PrincipalDep,
    number: int = TrialNumber,
) -> SearchPublic:
    """Train a trial the search stopped early on to its last epoch, from its checkpoint."""
    searches.resume(session, search_id, number, broker, principal.scope)
    return to_public(session, searches.get(session, search_id))


EVENTS_DESCRIPTION = """`text/event-stream`. Events, each with JSON `data`:

- `trial`: a trial as `GET /v1/searches/{id}` lists it, when it starts, gains a value, is
  stopped or ends;
- `status`: `{"status", "best"}` when the search's status changes (`running` first).

The stream ends after the search's final status."""


@router.get(
    "/{search_id}/events",
    summary="Stream a search's events",
    response_class=EventSourceResponse,
    responses={200: {"description": EVENTS_DESCRIPTION, "content": {"text/event-stream": {}}}},
)
async def stream_search_events(search_id: str, request: Request) -> Response:
    """Its trials as they start, progress, stop and end, until the search ends."""
    sessions: Callable[[], Session] = request.app.state.sessionmaker
    principal = authenticate(request)

    def read() -> dict[str, Any]:
        with sessions() as session:
            view = searches.view(session, searches.get(session, search_id, principal.scope))
            return json.loads(SearchPublic.model_validate(view).model_dump_json())

    first = await anyio.to_thread.run_sync(read)  # 404 before the stream opens

    async def events() -> AsyncIterator[ServerSentEvent]:
        seen: dict[int, dict[str, Any]] = {}
        last_status = None
        view = first
        while True:
            for trial in view["trials"]:
                if seen.get(trial["number"]) != trial:
                    seen[trial["number"]] = trial
                    yield ServerSentEvent(data=json.dumps(trial), event="trial")
            if view["status"] != last_status:
                last_status = view["status"]
                data = {"status": view["status"], "best": view["best"]}
                yield ServerSentEvent(data=json.dumps(data), event="status")
            if view["status"] != "running" or await request.is_disconnected():
                return
            await anyio.sleep(POLL_SECONDS)
            view = await anyio.to_thread.run_sync(read)

    return EventSourceResponse(events(), ping=15)
