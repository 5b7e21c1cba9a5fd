from fastapi import APIRouter, Query

from api.deps import ModelCacheDep, ModelDep, SessionDep, SettingsDep, StoreDep
from api.schemas.models import ModelList, ModelPublic, PredictRequest, PredictResponse
from services import models
from services.errors import InvalidInput
from serving.inputs import pixels_to_batch
from serving.predict import classify

router = APIRouter(prefix="/v1/models", tags=["models"])


@router.get("", response_model=ModelList, summary="List trained models")
def list_models(
    session: SessionDep,
    limit: int = Query(default=20, ge=1, le=200),
    offset: int = Query(default=0, ge=0),
) -> ModelList:
    """Trained models, newest first."""
    items = models.page(session, limit=limit, offset=offset)
    return ModelList(items=[ModelPublic.model_validate(m) for m in items])


@router.get("/{model_id}", response_model=ModelPublic, summary="Get a trained model")
def get_model(model: ModelDep) -> ModelPublic:
    """What the model was trained on, its classes, its metrics and its export check."""
    return ModelPublic.model_validate(model)


@router.post("/{model_id}/predict", response_model=PredictResponse, summary="Predict")
def predict(
    model: ModelDep,
    body: PredictRequest,
    settings: SettingsDep,
    store: StoreDep,
    cache: ModelCacheDep,
) -> PredictResponse:
    """Classify images given as 0-255 pixel lists; each answer is named by its class."""
    limit = settings.max_instances_per_request
    if len(body.instances) > limit:
        raise InvalidInput(
            f"{len(body.instances)} instances sent; at most {limit} per request",
            fix="split the instances over several requests",
        )
    batch = pixels_to_batch(body.instances, tuple(model.input_shape))
    onnx = cache.get(store.local_path(model.onnx_key))
    predictions = classify(onnx, batch, model.class_names)
    return PredictResponse.model_validate({"model_id": model.id, "predictions": predictions})
