from typing import Any

from fastapi import APIRouter, Request, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from api.auth import PrincipalDep
from api.deps import PagingDep, SessionDep, StoreDep
from api.idempotency import IdempotencyKeyHeader, Idempotent
from api.schemas.datasets import DatasetCreate, DatasetList, DatasetPublic
from core.errors import UnsupportedMediaType
from models import UserDataset
from services import dataset_uploads, datasets
from training.builtin_datasets import DatasetInfo

router = APIRouter(prefix="/v1/datasets", tags=["datasets"])

CSV_FORM = {
    "type": "object",
    "required": ["name", "task", "file"],
    "properties": {
        "name": {"type": "string", "description": "Name of the new data set, unique among yours."},
        "task": {"type": "string", "enum": ["classification", "regression"]},
        "target": {"type": "string", "description": "The label column; default the last."},
        "file": {"type": "string", "format": "binary", "description": "CSV with a header row."},
    },
}
UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": DatasetCreate.model_json_schema()},
            "multipart/form-data": {"schema": CSV_FORM},
        },
    }
}


def builtin_public(info: DatasetInfo) -> DatasetPublic:
    return DatasetPublic.model_validate(info, from_attributes=True)


def uploaded_public(row: UserDataset) -> DatasetPublic:
    return DatasetPublic(
        name=row.name,
        title=f"uploaded {row.task} data set",
        input_shape=row.input_shape,
        num_classes=len(row.class_names),
        class_names=row.class_names,
        train_size=row.rows,
        test_size=0,
        source="upload",
        id=row.id,
        builtin=False,
        task=row.task,
        target_size=row.target_size,
        feature_names=row.feature_names,
        created_at=row.created_at,
    )


@router.get("", response_model=DatasetList, summary="List data sets")
def list_datasets(session: SessionDep, principal: PrincipalDep, page: PagingDep) -> DatasetList:
    """The built-in data sets, then the uploaded ones you own, with their shapes and classes."""
    items, total = datasets.page(
        session, limit=page.limit, offset=page.offset, owner=principal.scope
    )
    return page.answer(DatasetList, [_public(item) for item in items], total)


def _public(item: DatasetInfo | UserDataset) -> DatasetPublic:
    return uploaded_public(item) if isinstance(item, UserDataset) else builtin_public(item)


@router.get("/{name_or_id}", response_model=DatasetPublic, summary="Get a data set")
def get_dataset(name_or_id: str, session: SessionDep, principal: PrincipalDep) -> DatasetPublic:
    """One data set, built in or uploaded, by name (or an uploaded one's id)."""
    for info in datasets.list_all():
        if info.name == name_or_id:
            return builtin_public(info)
    return uploaded_public(datasets.get_uploaded(session, name_or_id, principal.scope))


DELETE_ERRORS: dict[int | str, dict[str, object]] = {
    code: {"description": text, "content": {"application/problem+json": {}}}
    for code, text in {
        404: "No uploaded data set of yours has this name or id.",
        405: "A built-in data set, which cannot be deleted.",
        409: "Unfinished jobs train on it (their ids are named), or, for an admin, two owners "
        "share the name.",
    }.items()
}


@router.delete(
    "/{name_or_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Delete a data set",
    responses=DELETE_ERRORS,
)
def delete_dataset(
    name_or_id: str, session: SessionDep, store: StoreDep, principal: PrincipalDep
) -> Response:
    """Delete an uploaded data set and its rows; models trained on it keep working."""
    datasets.delete(session, store, name_or_id, principal.scope)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=DatasetPublic,
    summary="Upload a data set",
    openapi_extra=UPLOAD_BODY,
)
async def upload_dataset(
    request: Request,
    response: Response,
    session: SessionDep,
    store: StoreDep,
    principal: PrincipalDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Any:
    """Upload rows as JSON ({"name", "task", "x", "y"}) or a CSV file (multipart form)."""
    # The body's size is capped (DESCENT_MAX_UPLOAD_BYTES) by api.limits before it gets here.
    kind = request.headers.get("content-type", "").split(";")[0].strip()
    if kind == "multipart/form-data":
        upload = await _from_form(request)
    elif kind == "application/json":
        upload = await run_in_threadpool(_from_json, await request.body())
    else:
        raise UnsupportedMediaType(
            f"content-type {kind or 'none'!r} is not an upload this route reads",
            fix="send JSON (application/json) or a CSV file as multipart/form-data "
            "(curl -F name=... -F task=... -F file=@data.csv)",
        )
    once = Idempotent(
        session,
        idempotency_key,
        "POST /v1/datasets",
        principal.owner,
        dataset_uploads.fingerprint(upload),
    )
    if (replayed := once.replayed()) is not None:
        return replayed
    row = await run_in_threadpool(datasets.create, session, store, upload, principal.owner)
    return once.accepted(
        response, f"/v1/datasets/{row.id}", uploaded_public(row), status.HTTP_201_CREATED
    )


async def _from_form(request: Request) -> dataset_uploads.Upload:
    form = await request.form(max_files=1, max_fields=8)
    file = form.get("file")
    missing = [key for key in ("name", "task") if not isinstance(form.get(key), str)]
    if not isinstance(file, UploadFile):
        missing.append("file")
    if missing:
        raise dataset_uploads.refuse(
            missing[0],
            f"the form lacks {', '.join(missing)}",
            "send name, task (classification or regression) and file (a CSV) as form fields",
        )
    assert isinstance(file, UploadFile)
    task = str(form["task"])
    if task not in ("classification", "regression"):
        raise dataset_uploads.refuse(
            "task", f"{task!r} is not a task", 'use "classification" or "regression"', task
        )
    target = form.get("target")
    # The file is spooled to disk past 1 MiB by the form parser; it is read from there as a
    # stream, in a thread, so the event loop keeps answering while a large CSV is parsed.
    return await run_in_threadpool(
        dataset_uploads.from_csv,
        str(form["name"]),
        task,
        file.file,
        target if isinstance(target, str) and target else None,
    )


def _from_json(body: bytes) -> dataset_uploads.Upload:
    """A JSON upload, parsed and turned into arrays in a thread: a large one takes seconds,
    which the event loop spends answering other requests."""
    try:
        parsed = DatasetCreate.model_validate_json(body)
    except ValidationError as error:
        raise RequestValidationError(error.errors(include_url=False)) from None
    return dataset_uploads.from_rows(
        parsed.name, parsed.task, parsed.x, parsed.y, parsed.class_names
    )
