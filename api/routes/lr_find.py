"""Learning-rate range tests (Leslie Smith's): a short run that sweeps the learning rate and
returns the loss-vs-rate curve with a suggested rate. Underneath each is a job of kind
"lr_find" (services/lr_find.py), run by a worker like any job: it shows in GET /v1/jobs, its
events stream at /v1/jobs/{id}/events and POST /v1/jobs/{id}/cancel stops it."""

from fastapi import APIRouter, Response, status

from api.auth import PrincipalDep
from api.deps import BrokerDep, SessionDep, SettingsDep
from api.json_bodies import BoundedJsonRoute
from api.schemas.lr_find import LrFind, LrFindRequest
from services import lr_find

router = APIRouter(prefix="/v1/lr-find", tags=["lr-find"], route_class=BoundedJsonRoute)


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=LrFind,
    summary="Find a learning rate (a range test)",
)
def find_learning_rate(
    body: LrFindRequest,
    session: SessionDep,
    settings: SettingsDep,
    broker: BrokerDep,
    response: Response,
    principal: PrincipalDep,
) -> LrFind:
    """Check the spec as POST /v1/jobs does, then queue a short run whose learning rate rises
    exponentially from min_learning_rate to max_learning_rate over `steps` batches; GET the
    Location until it has finished for the loss curve and the suggested rate."""
    job = lr_find.submit(
        session,
        body.spec,
        body.model_dump(exclude={"spec"}),
        owner=principal.owner,
        settings=settings,
        broker=broker,
    )
    response.headers["Location"] = f"/v1/lr-find/{job.id}"
    return LrFind.of(job)


@router.get("/{job_id}", response_model=LrFind, summary="Get a learning-rate range test")
def get_lr_find(job_id: str, session: SessionDep, principal: PrincipalDep) -> LrFind:
    """Its status, and once it has run the loss-vs-rate curve and the suggested rate."""
    return LrFind.of(lr_find.get(session, job_id, principal.scope))
