from typing import Union

from fastapi import APIRouter
from pydantic import BaseModel, Field
from typing_extensions import TypeAliasType

from api.deps import ModelDep, SessionDep, SettingsDep, StoreDep
from services import weights
from training.layers import LayerType

# A weight array as nested lists of numbers, as deep as the array: a bias or a batch_norm
# vector 1, a dense kernel 2, a conv2d kernel 4 ([height][width][channels][filters]).
WeightArray = TypeAliasType(
    "WeightArray",
    Union[  # noqa: UP007
        list[float], list[list[float]], list[list[list[float]]], list[list[list[list[float]]]]
    ],
)

router = APIRouter(prefix="/v1/models", tags=["models"])


class LayerWeights(BaseModel):
    index: int = Field(description="Position in the job's spec.model.layers.")
    type: LayerType
    weights: dict[str, WeightArray] = Field(
        description="By name (kernel, bias; batch_norm: gamma, beta, moving_mean, "
        "moving_variance), each as nested lists; dense kernels are [inputs][units]."
    )


class ModelWeights(BaseModel):
    model_id: str
    total_params: int
    layers: list[LayerWeights]


@router.get("/{model_id}/weights", response_model=ModelWeights, summary="Get trained weights")
def get_weights(
    model: ModelDep, session: SessionDep, store: StoreDep, settings: SettingsDep
) -> ModelWeights:
    """A small model's trained weights and biases as nested lists, layer by layer."""
    return ModelWeights.model_validate(
        weights.read(session, store, model, settings.max_weights_params)
    )
