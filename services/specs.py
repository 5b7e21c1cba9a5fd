"""Check a spec against its data set at submission, before anything is queued.

The spec's form was checked when it was parsed; here it meets its data set (built-in or
uploaded, which only the database knows) and this service's caps. A spec that cannot train
is a 422 naming each field, what was found, what is allowed and how to fix it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from core.errors import InvalidInput
from core.settings import Settings
from services import datasets
from training.limits import Limits
from training.problems import Problem, SpecError
from training.resolve import Resolution, resolve
from training.spec import JobSpec


class InvalidSpec(InvalidInput):
    title = "Invalid job spec"
    code = "spec_invalid"


def limits(settings: Settings) -> Limits:
    return Limits(
        max_layers=settings.max_layers,
        max_params=settings.max_params,
        max_epochs=settings.max_epochs,
        max_batch_size=settings.max_batch_size,
        max_activation_bytes=settings.max_activation_bytes,
    )


def check(session: Session, spec: JobSpec, settings: Settings, owner: str) -> Resolution:
    """The resolved spec, its summary and warnings; InvalidSpec if it cannot train.

    ``owner`` is who the job would belong to: it trains on a built-in data set or one of
    ``owner``'s uploads. Another owner's data set is refused exactly as a missing one is."""
    data = datasets.describe(session, spec.dataset.name, owner)
    if data is None:
        raise missing_dataset(session, spec, owner)
    try:
        return resolve(spec, data, limits(settings))
    except SpecError as error:
        raise _invalid(error.problems) from None


def missing_dataset(session: Session, spec: JobSpec, owner: str) -> InvalidSpec:
    """The refusal of a spec whose data set ``owner`` has none of (or no longer has)."""
    return _invalid(
        [
            Problem(
                field="dataset.name",
                message=f"there is no data set named {spec.dataset.name!r}",
                found=spec.dataset.name,
                allowed=datasets.known_names(session, owner),
                fix="use a built-in data set (mnist, asl) or upload yours with "
                "{upload_dataset}, then name it here",
            )
        ]
    )


def job_details(checked: Resolution) -> dict[str, Any]:
    """What a job is created with from its check: the model summary and the warnings, which
    its row keeps, and the id of the uploaded data set it was checked against (None for a
    built-in one), which must still be there when the job is committed (jobs.create)."""
    return {
        "summary": checked.summary(),
        "warnings": [warning.as_dict() for warning in checked.warnings],
        "dataset_id": checked.data.id,
    }


def check_all(
    session: Session, items: Sequence[JobSpec], settings: Settings, owner: str
) -> list[Resolution]:
    """Check a batch's specs; one that cannot train refuses them all, each error naming its item."""
    checked: list[Resolution] = []
    errors: list[dict[str, Any]] = []
    for index, spec in enumerate(items):
        try:
            checked.append(check(session, spec, settings, owner))
        except InvalidSpec as error:
            errors.extend({"item": index, "name": spec.name, **e} for e in error.errors or [])
    if errors:
        raise refuse_batch(
            InvalidSpec,
            errors,
            len(items),
            "cannot train",
            fix="correct the items listed in errors (item is the 0-based position in the "
            "expanded batch) and submit the batch again",
        )
    return checked


def refuse_batch(
    kind: type[InvalidInput], errors: list[dict[str, Any]], size: int, why: str, *, fix: str
) -> InvalidInput:
    """One error for a whole batch: how many of its items fail and ``why``, the first five named.

    Each of ``errors`` names its ``item`` (the 0-based position), ``field`` and ``message``."""
    bad = len({e["item"] for e in errors})
    summary = "; ".join(f"item {e['item']}: {e['field']}: {e['message']}" for e in errors[:5])
    return kind(
        f"{bad} of the batch's {size} items {why}, so none was created: {summary}",
        fix=fix,
        errors=errors,
        code="spec_invalid",
    )


def _invalid(problems: list[Problem]) -> InvalidSpec:
    return InvalidSpec(
        "; ".join(f"{p.field}: {p.message}" for p in problems),
        fix=problems[0].fix,
        errors=[p.as_dict() for p in problems],
    )
