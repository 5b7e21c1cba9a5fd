from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import FileResponse

from api import prediction
from api.auth import PrincipalDep
from api.deps import (
    ModelDep,
    PageLimit,
    PageOffset,
    SessionDep,
    StoreDep,
    load_served_model,
    request_settings,
)
from api.schemas.trained_models import ModelList, ModelPublic, PredictRequest, PredictResponse
from core.errors import NotFound
from services import trained_models
from serving.inputs import Scale
from serving.sessions import gone

router = APIRouter(prefix="/v1/models", tags=["models"])

PREDICT_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            prediction.JSON: {"schema": PredictRequest.model_json_schema()},
            prediction.MULTIPART: {
                "schema": {
                    "type": "object",
                    "properties": {
                        "file": {
                            "type": "array",
                            "items": {"type": "string", "format": "binary"},
                            "description": "One or many image files (any field name).",
                        }
                    },
                }
            },
            prediction.NPY: {
                "schema": {
                    "type": "string",
                    "format": "binary",
                    "description": "numpy.save bytes of an (N, 28, 28) or (N, 784) array.",
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
        422: "Instances the model cannot take, and why.",
    }.items()
}


@router.get("", response_model=ModelList, summary="List trained models")
def list_models(
    session: SessionDep,
    principal: PrincipalDep,
    limit: PageLimit = 20,
    offset: PageOffset = 0,
) -> ModelList:
    """Trained models, newest first, with their job, data set, task and final metrics."""
    items = trained_models.page(session, limit=limit, offset=offset, owner=principal.scope)
    return ModelList(items=[ModelPublic.model_validate(m) for m in items])


@router.get("/{model_id}", response_model=ModelPublic, summary="Get a trained model")
def get_model(model: ModelDep) -> ModelPublic:
    """What the model was trained on, its classes, its metrics and its export check."""
    return ModelPublic.model_validate(model)


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
    model_id: str,
    request: Request,
    top_k: Annotated[
        int | None, Query(ge=1, le=1000, description="Answer only the k most likely classes.")
    ] = None,
    scale: Annotated[
        Scale | None,
        Query(description='Pixel arrays: "pixels" (0-255, default) or "unit" (0-1).'),
    ] = None,
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
    model = await load_served_model(model_id, request)
    settings = request_settings(request)
    content = await prediction.answer(request, model, settings, top_k, scale, include_input)
    return Response(content, media_type="application/json")
