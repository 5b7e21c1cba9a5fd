"""Register trained models and look them up for prediction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from core.errors import Conflict, NotFound
from core.settings import Settings
from models import Job, JobStatus, TrainedModel
from services import datasets
from services.artifacts import ArtifactStore

if TYPE_CHECKING:
    from serving.cards import ModelCard


def files_folder(job_id: str, attempt: int) -> str:
    """The artifact-store folder for the model files attempt ``attempt`` of the job exports:
    each attempt has its own, so an attempt taken over while uploading never replaces the files
    the registered model (a later attempt's) points at. Models stored before this are under
    ``<job>/`` itself; a model's registered keys, not this folder, say where its files are."""
    return f"{job_id}/a{attempt}"


def misclassified_key(folder: str, index: int) -> str:
    """Where the PNG of an evaluation's ``index``-th misclassified input is stored: in the
    model's folder (``files_folder``), so it goes when that folder goes."""
    return f"{folder}/misclassified/{index}.png"


def register(
    session: Session, job_id: str, *, evaluation: dict[str, Any] | None = None, **fields: Any
) -> TrainedModel:
    """The job's model, with its ``evaluation`` (training/keras/evaluation.py; None when it
    was not evaluated); it belongs to the job's owner."""
    owner = session.scalar(select(Job.owner).where(Job.id == job_id))
    model = TrainedModel(
        id=job_id, evaluation=evaluation, **({"owner": owner} if owner else {}) | fields
    )
    session.add(model)
    session.flush()
    return model


def evaluation_not_found(job_id: str, why: str) -> NotFound:
    return NotFound(
        f"job {job_id!r} has no evaluation: {why}",
        fix=f"an evaluation is made when a job succeeds with validation or test rows: wait "
        f"until job {job_id!r} has succeeded ({{get_job}} says), or train with a validation "
        "split",
        code="evaluation_not_found",
    )


def evaluation(session: Session, job_id: str) -> dict[str, Any]:
    """The evaluation of the job's model (the caller checked the job is the asker's), or 404
    ``evaluation_not_found`` saying why there is none."""
    found = session.execute(
        select(Job.status, Job.kind, Job.spec, TrainedModel.evaluation)
        .outerjoin(TrainedModel, TrainedModel.id == Job.id)
        .where(Job.id == job_id)
    ).first()
    status, kind, spec, stored = found if found is not None else (None, None, None, None)
    if stored is not None:
        return dict(stored)
    if kind == "lr_find":
        raise evaluation_not_found(
            job_id, "it is a learning-rate range test, which trains no model"
        )
    if status in (JobStatus.queued, JobStatus.running, JobStatus.cancelling):
        raise evaluation_not_found(job_id, f"it is {status}; its model is evaluated when it ends")
    if status is None:
        why = "there is no such job"
    elif (
        status == JobStatus.succeeded
        and (spec or {}).get("dataset", {}).get("validation") == "none"
    ):
        why = "it held out no validation rows (and its data set has no test split to score)"
    elif status == JobStatus.succeeded:
        why = (
            "its model was not evaluated: it was trained before evaluations existed, or its "
            "evaluation failed (the worker's log says why)"
        )
    else:
        why = f"it ended {status}, and only a job that trains to its end is evaluated"
    raise evaluation_not_found(job_id, why)


def not_found(model_id: str) -> NotFound:
    """The 404 for a model id that names nothing of the asker's: the same words whether there
    is no such model or it is another owner's (api/auth.check_owner raises this one too)."""
    return NotFound(
        f"no model with id {model_id!r}",
        fix="a model's id is the id of the job that trained it; list jobs with {list_jobs}",
        code="model_not_found",
    )


def get(session: Session, model_id: str, owner: str | None = None) -> TrainedModel:
    """The model, or 404 for an unknown id (or another ``owner``'s), or 409 while its job has
    not succeeded."""
    # The job and its model in one statement, so they agree: the worker registers the model in
    # the commit that ends the job, and each statement sees what had committed when it began
    # (PostgreSQL; SQLite outside a write), so a second query could see the job ended while
    # the first saw no model yet, and call a model that is there missing.
    found = session.execute(
        select(Job, TrainedModel)
        .outerjoin(TrainedModel, TrainedModel.id == Job.id)
        .where(Job.id == model_id)
        .options(joinedload(TrainedModel.job))
        .execution_options(populate_existing=True)
    ).first()
    job, model = found if found is not None else (None, None)
    if model is not None and (owner is None or model.owner == owner):
        return model
    if job is None or (owner is not None and job.owner != owner) or _no_model_asked(job):
        raise not_found(model_id)
    if job.status in (JobStatus.queued, JobStatus.running, JobStatus.cancelling):
        raise Conflict(
            f"model {model_id!r} is not ready: its job is {job.status}",
            fix=f"wait until job {model_id!r} has succeeded ({{get_job}} says), then ask again",
            code="model_not_ready",
        )
    raise Conflict(
        f"job {model_id!r} ended {job.status} and produced no model"
        + (f": {job.error}" if job.error else ""),
        fix="fix the spec and submit a new job with {submit_job}",
        code="model_not_trained",
    )


def _no_model_asked(job: Job) -> bool:
    """A learning-rate range test that was not asked to keep its model never has one: its id
    is no model's, as a job that never existed (services/lr_find.py)."""
    return job.kind == "lr_find" and not (job.lr_find or {}).get("keep_model")


def card(
    session: Session,
    store: ArtifactStore,
    settings: Settings,
    model_id: str,
    owner: str | None = None,
) -> ModelCard:
    """What prediction needs to know about a model, from its row (404/409/410 if it can't)."""
    # Imported here, not above: workers register models through this module and never predict,
    # so they need not load ONNX Runtime and Pillow.
    from serving.cards import SCALINGS, make_card
    from serving.sessions import gone

    row = get(session, model_id, owner)  # another owner's model: 404
    try:
        path = store.local_path(row.onnx_key)
    except NotFound:
        raise gone(model_id) from None
    if row.scaling not in SCALINGS:
        raise Conflict(
            f"model {model_id!r} scales its input with {row.scaling!r}, which this server "
            f"does not know (it knows {sorted(SCALINGS)})",
            fix="run a Descent version as recent as the worker that trained the model",
            code="model_incompatible",
        )
    return make_card(
        id=row.id,
        task=row.task,
        class_names=row.class_names,
        input_shape=row.input_shape,
        dataset=row.dataset,
        scaling=row.scaling,
        onnx_path=path,
        owner=row.owner,
        settings=settings,
    )


def page(
    session: Session,
    *,
    limit: int,
    offset: int,
    owner: str | None = None,
    dataset: str | None = None,
    task: str | None = None,
) -> tuple[Sequence[TrainedModel], int]:
    """Newest first, those trained on ``dataset`` for ``task`` if given, and how many in all;
    only ``owner``'s if one is given."""
    wanted = {"owner": owner, "task": task}
    conditions = [
        getattr(TrainedModel, key) == value for key, value in wanted.items() if value is not None
    ]
    if dataset is not None:  # an upload may be asked for by its id
        conditions.append(TrainedModel.dataset.in_(datasets.aliases(session, dataset, owner)))
    total = session.scalar(select(func.count()).select_from(TrainedModel).where(*conditions))
    models = session.scalars(
        select(TrainedModel)
        .where(*conditions)
        .options(joinedload(TrainedModel.job))
        .order_by(TrainedModel.created_at.desc(), TrainedModel.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return models, total or 0
