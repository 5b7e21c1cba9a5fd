from fastapi import APIRouter

from api.auth import PrincipalDep
from api.deps import SessionDep, SettingsDep
from api.json_bodies import BoundedJsonRoute
from api.schemas.specs import SpecCheck
from services import specs
from training.spec import JobSpec

router = APIRouter(prefix="/v1/jobs", tags=["jobs"], route_class=BoundedJsonRoute)


@router.post("/validate", response_model=SpecCheck, summary="Check a spec without queueing it")
def validate_spec(
    spec: JobSpec, session: SessionDep, settings: SettingsDep, principal: PrincipalDep
) -> SpecCheck:
    """Resolve a spec and summarise its model (shapes, parameters), queueing nothing."""
    checked = specs.check(session, spec, settings, principal.owner)
    return SpecCheck.model_validate(
        {
            "spec": checked.spec,
            "summary": checked.summary(),
            "warnings": [warning.as_dict() for warning in checked.warnings],
        }
    )
