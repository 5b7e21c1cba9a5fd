from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ModelPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str = Field(description="The same as the id of the job that trained it.")
    dataset: str
    task: str
    class_names: list[str]
    input_shape: list[int]
    scaling: str = Field(description="How pixels 0-255 are scaled before the model sees them.")
    metrics: dict[str, float]
    export_check: dict[str, Any] = Field(description="How closely ONNX matched Keras at export.")
    created_at: datetime


class ModelList(BaseModel):
    items: list[ModelPublic]


class PredictRequest(BaseModel):
    instances: list[Any] = Field(
        description="Images as 28×28 nested lists (or flat lists of 784) of pixels 0-255.",
        examples=[[[[0] * 28] * 28]],
    )


class Prediction(BaseModel):
    label: str = Field(description="The class name: a digit for mnist, a letter for asl.")
    class_index: int
    probabilities: list[float]


class PredictResponse(BaseModel):
    model_id: str
    predictions: list[Prediction]
