from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class JobRef(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str | None


class ModelPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str = Field(description="The same as the id of the job that trained it.")
    job: JobRef = Field(description="The job that trained it.")
    dataset: str
    task: str = Field(description="classification, binary or regression: what predictions hold.")
    class_names: list[str]
    input_shape: list[int]
    scaling: str = Field(description="How pixels 0-255 are scaled before the model sees them.")
    metrics: dict[str, float] = Field(description="The final epoch's metrics.")
    export_check: dict[str, Any] = Field(description="How closely ONNX matched Keras at export.")
    created_at: datetime


class ModelList(BaseModel):
    items: list[ModelPublic]


class PredictRequest(BaseModel):
    """The JSON body of a prediction: TF Serving's row format, plus two options."""

    model_config = ConfigDict(extra="forbid")

    instances: list[Any] = Field(
        description=(
            "One entry per image: a 28×28 nested list or a flat list of 784 pixels (0-255, or "
            '0-1 with "scale": "unit"), or {"b64": "<base64 of a PNG or JPEG file>"}.'
        ),
        examples=[[[[0] * 28] * 28]],
    )
    scale: Literal["pixels", "unit"] | None = Field(
        default=None,
        description='"pixels" (default): values 0-255; "unit": values 0-1, already scaled.',
    )
    top_k: int | None = Field(
        default=None,
        ge=1,
        le=1000,
        description="Answer only the k most likely classes, most likely first.",
    )


class ClassScore(BaseModel):
    label: str
    class_index: int
    probability: float


class Prediction(BaseModel):
    label: str | None = Field(
        default=None, description="The class name: a digit for mnist, a letter for asl."
    )
    class_index: int | None = None
    probabilities: list[float] | None = Field(
        default=None, description="Every class's probability, in class_index order."
    )
    top_k: list[ClassScore] | None = Field(
        default=None, description="With top_k asked: the k most likely classes, instead."
    )
    value: float | list[float] | None = Field(
        default=None, description="A regression model's output, instead of the above."
    )
    input: list[Any] | None = Field(
        default=None,
        description="With include_input: what the model was given, as 28×28 rows of 0-255 "
        "pixels for an image model (an image file after its conversion).",
    )


class PredictResponse(BaseModel):
    model_id: str
    predictions: list[Prediction]
