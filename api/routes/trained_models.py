import time
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import FileResponse

from api import prediction
from api.auth import PrincipalDep
from api.deps import (
    ModelDep,
    ModelRef,
    NamedModelDep,
    PagingDep,
    SessionDep,
    StoreDep,
    load_served_model,
    request_settings,
)
from api.schemas.trained_models import ModelList, ModelPublic, PredictResponse, VersionStatus
from core.errors import NotFound
from services import trained_models
from serving.scales import ScaleOption
from serving.sessions import gone
from training.vocabulary import Task

router = APIRouter(prefix="/v1/models", tags=["models"])

PREDICT_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            # Named in the components by prediction.document: this body is read by hand.
            prediction.JSON: {"schema": {"$ref": "#/components/schemas/PredictRequest"}},
            prediction.MULTIPART: {
                "schema": {
                    "type": "object",
                    "properties": {
                        "file": {
                            "type": "array",
                            "items": {"type": "string", "format": "binary"},
                            "description": "One or many image files (any field name), PNG, "
                            "JPEG, GIF, BMP or WebP; decoded to 0-255 pixels, so scale is "
                            '"pixels" ("unit" is refused).',
                        }
                    },
                }
            },
            prediction.NPY: {
                "schema": {
                    "type": "string",
                    "format": "binary",
                    "description": "numpy.save bytes of an (N, 28, 28), (N, 28, 28, 1), "
                    "(N, 1, 28, 28) or (N, 784) array of integers or floats, read on the scale "
                    'the query\'s scale says: "auto" (default) by the values, as for JSON.',
                }
            },
        },
    }
}
PREDICT_ERRORS = {
    status: {"description": text, "content": {"application/problem+json": {}}}
    for status, text in {
        404: "No such model.",
        409: "The model's job has not succeeded.",
        410: "The model's file is gone.",
        413: "Too many bytes or instances.",
        415: "A body that is not JSON, multipart or .npy.",
        422: "Instances the model cannot take, and why (their shape, or values that fit "
        'neither scale or could be either: the fix says which "scale" to send).',
    }.items()
}


@router.get("", response_model=ModelList, summary="List trained models")
def list_models(
    session: SessionDep,
    principal: PrincipalDep,
    page: PagingDep,
    dataset: Annotated[
        str | None, Query(max_length=200, description="Only models trained on this data set.")
    ] = None,
    task: Annotated[Task | None, Query(description="Only models of this task.")] = None,
) -> ModelList:
    """Trained models, newest first, with their job, data set, task and final metrics."""
    items, total = trained_models.page(
        session,
        limit=page.limit,
        offset=page.offset,
        owner=principal.scope,
        dataset=dataset,
        task=task,
    )
    return page.answer(ModelList, [ModelPublic.model_validate(m) for m in items], total)


@router.get("/{model_id}", response_model=ModelPublic, summary="Get a trained model")
def get_model(named: NamedModelDep) -> ModelPublic:
    """What the model was trained on, its classes, its metrics and its export check; asked
    for by name (NAME, NAME@ALIAS), also the name and version it resolved."""
    found = ModelPublic.model_validate(named.model)
    if named.name is None:
        return found
    return found.model_copy(
        update={
            "name": named.name,
            "version": named.version,
            "model_version_status": [VersionStatus(version=str(named.version))],
        }
    )


@router.get(
    "/{model_id}/download",
    response_class=FileResponse,
    summary="Download a trained model",
    responses={200: {"content": {"application/octet-stream": {}}}},
)
def download_model(
    model: ModelDep,
    store: StoreDep,
    file_format: Literal["keras", "onnx"] = Query(
        default="keras", alias="format", description="keras (to load or resume) or onnx."
    ),
) -> FileResponse:
    """The model's .keras or .onnx file."""
    key = model.keras_key if file_format == "keras" else model.onnx_key
    try:
        path = store.local_path(key)
    except NotFound:
        raise gone(model.id, file=f".{file_format}") from None
    return FileResponse(
        path, media_type="application/octet-stream", filename=f"{model.id}.{file_format}"
    )


@router.post(
    "/{model_id}/predict",
    response_model=PredictResponse,
    summary="Predict",
    openapi_extra=PREDICT_BODY,
    responses=PREDICT_ERRORS,
)
async def predict(
    model_id: ModelRef,
    request: Request,
    top_k: Annotated[
        int | None, Query(ge=1, le=1000, description="Answer only the k most likely classes.")
    ] = None,
    scale: Annotated[
        ScaleOption,
        Query(
            description='How to read the numbers sent: "auto" (default: by the values), '
            '"pixels" (0-255) or "unit" (0-1, already divided by 255); the answer says which '
            "was used. Also in the JSON body."
        ),
    ] = "auto",
    include_input: Annotated[
        bool,
        Query(
            description="Also answer, per instance, the input the model was given: for an image "
            "file, its 0-255 pixels after conversion (what the web page shows)."
        ),
    ] = False,
) -> Response:
    """Answer for images sent as pixel arrays, base64 images, image files or an .npy array."""
    # The model and settings are looked up here rather than through dependencies: on this hot
    # path FastAPI's dependency resolution costs ~8% of a single-image request.
    started = time.perf_counter()
    model = await load_served_model(model_id, request)
    settings = request_settings(request)
    answered = await prediction.answer(request, model, settings, top_k, scale, include_input)
    if metrics := request.app.state.metrics:  # only answers count: an error raised above
        metrics.predicted(model.card.task, time.perf_counter() - started, answered.instances)
    return Response(answered.content, media_type="application/json")
