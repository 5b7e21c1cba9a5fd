from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SkipValidation, model_validator
from typing_extensions import TypeAliasType

from api.schemas.pages import Page
from serving.scales import Scale, ScaleOption
from training.vocabulary import Task

# serving.cards.SCALINGS as a schema enum (a test keeps the two the same).
Scaling = TypeAliasType("Scaling", Literal["divide_by_255", "none"])


class JobRef(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str | None


class ExportCheck(BaseModel):
    """How closely the exported ONNX model matched Keras on a few training rows."""

    max_abs_diff: float | None = Field(
        default=None, description="The largest difference between their outputs."
    )
    samples: int | None = Field(default=None, description="How many rows were compared.")


class VersionStatusDetail(BaseModel):
    error_code: str = Field(default="OK", description='"OK": the version loaded.')
    error_message: str = ""


class VersionStatus(BaseModel):
    """TF Serving's status of one version: what its model-status clients read."""

    version: str = Field(description="The version, in digits; 1 for a model asked by id.")
    state: str = Field(default="AVAILABLE", description='"AVAILABLE": ready to serve.')
    status: VersionStatusDetail = Field(default_factory=VersionStatusDetail)


class ModelPublic(BaseModel):
    """A trained model. Asked for by name (GET /v1/models/NAME or NAME@ALIAS), it also says
    which name and version it resolved; ``model_version_status`` is TF Serving's model-status
    answer, so a TF Serving client's status call reads this same route."""

    model_config = ConfigDict(from_attributes=True)

    id: str = Field(description="The same as the id of the job that trained it.")
    job: JobRef = Field(description="The job that trained it.")
    dataset: str
    task: Task = Field(description="classification, binary or regression: what predictions hold.")
    class_names: list[str]
    input_shape: list[int]
    scaling: Scaling = Field(
        description="How the model's inputs are scaled before it sees them: divide_by_255 "
        "(pixels 0-255 to 0-1) or none."
    )
    metrics: dict[str, float] = Field(description="The final epoch's metrics.")
    export_check: ExportCheck = Field(description="How closely ONNX matched Keras at export.")
    created_at: datetime
    name: str | None = Field(
        default=None, description="Asked for by name: the registered name it resolved."
    )
    version: int | None = Field(
        default=None, description="Asked for by name: the name's version it resolved."
    )
    model_version_status: list[VersionStatus] = Field(
        default_factory=list,
        description="TF Serving's model status: the version answering (its number when asked "
        'by name, else "1"), AVAILABLE.',
    )

    @model_validator(mode="after")
    def _status(self) -> "ModelPublic":
        if not self.model_version_status:
            self.model_version_status = [VersionStatus(version=str(self.version or 1))]
        return self


class ModelList(Page[ModelPublic]):
    """A page of trained models."""


# A drawn "1", white on black as MNIST's digits are: a realistic instance for the examples.
DIGIT_ONE = [
    [255 if 12 <= col <= 14 and 4 <= row <= 23 else 0 for col in range(28)] for row in range(28)
]
ONE_PROBABILITIES = [0.0002, 0.9871, 0.0013, 0.0004, 0.0021, 0.0003, 0.0011, 0.0052, 0.0018, 0.0005]


class ImageB64(BaseModel):
    """An image file inside a JSON body: its bytes in base64."""

    model_config = ConfigDict(extra="forbid")

    b64: str = Field(
        description="Base64 (standard alphabet, padded) of a PNG, JPEG, GIF, BMP or WebP file; "
        "decoded as 0-255 pixels, whatever the request's scale.",
        examples=["iVBORw0KGgoAAAANSUhEUgAAABwAAAAcCAAAAABXZoBIAAAA..."],
    )


# Validation of the items is skipped: serving checks the numbers as one array, far faster
# than a model per number would, and says what is wrong with them (serving.inputs).
Instance = SkipValidation[list[float] | list[list[float]] | list[list[list[float]]] | ImageB64]


class PredictRequest(BaseModel):
    """The JSON body of a prediction: TF Serving's row format, plus two options."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"instances": [DIGIT_ONE], "scale": "auto"}],
        },
    )

    instances: list[Instance] = Field(
        description="One entry per instance: a 28×28 nested list (28×28×1 and 1×28×28 too) or "
        'a flat list of 784 numbers, as 0-255 pixels or 0-1 values (see "scale"); or an image '
        'file, {"b64": ...}. Pixel rows and b64 images may be mixed.',
    )
    scale: ScaleOption = Field(
        default="auto",
        description='How to read the numbers: "pixels" 0-255; "unit" 0-1, already divided by '
        '255 (what x / 255 gives); "auto" (default): by the values, and refused with a 422 '
        "when they fit neither or could be either (values only 0 and 1, 0-1 rows mixed with "
        "0-255 ones, values below 0 or above 255). Image files are always 0-255.",
    )
    top_k: int | None = Field(
        default=None,
        ge=1,
        le=1000,
        description="Answer only the k most likely classes, most likely first.",
    )


class ClassScore(BaseModel):
    """One of the k most likely classes."""

    label: str
    class_index: int
    probability: float


class Prediction(BaseModel):
    """The model's answer for one instance: a classifier's label and probabilities (or only
    its top k), or a regression model's value."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"label": "1", "class_index": 1, "probabilities": ONE_PROBABILITIES}]
        }
    )

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
    input: list[list[int]] | list[float] | None = Field(
        default=None,
        description="With include_input: what the model was given, as 28×28 rows of 0-255 "
        "pixels for an image model (an image file after its conversion), or the features as "
        "they are for a model trained on an uploaded table.",
    )


class PredictResponse(BaseModel):
    """The answers, one per instance in the order sent, and how the numbers sent were read."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "model_id": "3f2c9a0e5b7d4c2a8e6f0b1d9c7a5e3f",
                    "scale": "pixels",
                    "predictions": [
                        {"label": "1", "class_index": 1, "probabilities": ONE_PROBABILITIES}
                    ],
                }
            ]
        }
    )

    model_id: str
    scale: Scale = Field(
        description='How the numbers sent were read: "pixels" (0-255, divided by 255 as in '
        'training; image files are always read so), "unit" (0-1, taken as they are) or "raw" '
        "(a model trained on an uploaded table: features as they are)."
    )
    predictions: list[Prediction]
