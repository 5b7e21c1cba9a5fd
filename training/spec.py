"""The job spec: what to train, in Keras' words. Imports no TensorFlow.

This module holds the spec's *form*: every field, its type, range and default, and a refusal
for anything misspelt. What a spec means for a given data set (the task, the label encoding,
whether the layers' shapes fit, the parameter count, warnings) is worked out by
``training.resolve``, which needs the data set's description and so runs where that is known.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import (
    BeforeValidator,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema
from typing_extensions import TypeAliasType

from training.layer_specs import INITIALIZERS, Slope
from training.layer_specs import Strict as _Strict
from training.layers import (
    LAYER_TYPES,
    ActivationLayer,
    AvgPool2DLayer,
    BatchNormLayer,
    Conv2DLayer,
    DenseLayer,
    DropoutLayer,
    FlattenLayer,
    GlobalAvgPool2DLayer,
    LayerSpec,
    MaxPool2DLayer,
    ReshapeLayer,
)
from training.optimizer_specs import (
    OPTIMIZERS,
    SCHEDULES,
    Adam,
    OptimizerName,
    OptimizerSpec,
    default_name,
)
from training.option_specs import AugmentationSpec, EarlyStoppingSpec, ReduceOnPlateauSpec
from training.vocabulary import CROSSENTROPY_LOSSES, Activation, Loss, Metric, Task

__all__ = [
    "CROSSENTROPY_LOSSES",
    "LAYER_TYPES",
    "ActivationLayer",
    "AvgPool2DLayer",
    "BatchNormLayer",
    "Conv2DLayer",
    "DatasetSpec",
    "DenseLayer",
    "DropoutLayer",
    "FlattenLayer",
    "GlobalAvgPool2DLayer",
    "JobSpec",
    "Layer",
    "MaxPool2DLayer",
    "ModelSpec",
    "ReshapeLayer",
    "ValidationFraction",
]

Layer = LayerSpec
# The most items an open-ended list of a spec may hold as sent (layers, positive classes):
# far above what any job needs (DESCENT_MAX_LAYERS caps layers at 64 by default), low enough
# that a list sent to overwhelm validation is refused at its length, not item by item.
MAX_FORM_ITEMS = 1_024
Preset = TypeAliasType("Preset", Literal["dense", "cnn"])
PRESETS = ("dense", "cnn")


class ValidationFraction(_Strict):
    fraction: float = Field(gt=0, lt=1, description="Share of the training rows held out.")

    def held_out(self, rows: int) -> int:
        """How many of ``rows`` training rows this fraction holds out (at least one)."""
        return max(1, round(rows * self.fraction))


def _fraction_from_number(value: Any) -> Any:
    # Keras' validation_split=0.2 reads as {"fraction": 0.2}.
    if isinstance(value, int | float) and not isinstance(value, bool):
        return {"fraction": value}
    return value


ValidationSplit = TypeAliasType("ValidationSplit", Literal["test", "none"])
Fraction = Annotated[float, Field(gt=0, lt=1)]
Validation = Annotated[
    Union[  # noqa: UP007
        Annotated[ValidationSplit, Tag("choice")],
        Annotated[ValidationFraction, Tag("fraction")],
    ],
    Discriminator(lambda v: "choice" if isinstance(v, str) else "fraction"),
    # The request schema also shows the shorthand 0.2 for {"fraction": 0.2}.
    BeforeValidator(
        _fraction_from_number,
        json_schema_input_type=Union[ValidationSplit, Fraction, ValidationFraction],  # noqa: UP007
    ),
]
ClassName = Annotated[
    str,
    BeforeValidator(
        lambda v: str(v) if isinstance(v, int) else v,
        json_schema_input_type=Union[str, int],  # noqa: UP007
    ),
]


def storable(text: str | None) -> str | None:
    """``text`` unless it holds a NUL, which a text column (PostgreSQL's) cannot store or be
    searched for. Checked as the spec is parsed, so that POST /v1/jobs/validate and POST
    /v1/jobs answer alike."""
    if text is not None and "\x00" in text:
        raise ValueError(
            "contains a NUL character (\\u0000), which cannot be stored; remove control "
            "characters from it"
        )
    return text


class DatasetSpec(_Strict):
    name: str = Field(
        min_length=1,
        max_length=64,
        description='A built-in data set ("mnist", "asl") or the name or id of a data set '
        "uploaded with POST /v1/datasets.",
    )
    validation: Validation | None = Field(
        default=None,
        description='"test": the test split; {"fraction": 0.1} or 0.1: held out of train '
        '(seeded), the test split then scores the final model; "none". Default: "test" for '
        'built-in data sets, "none" for uploaded ones.',
    )
    limit: int | None = Field(
        default=None, ge=1, description="Train on the first N training rows only (quick runs)."
    )
    positive_classes: list[ClassName] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_FORM_ITEMS,
        description='Binary task: the classes that count as "yes", e.g. ["7"] asks "is it a 7?"',
    )

    _storable_name = field_validator("name")(lambda name: storable(name))


class ModelSpec(_Strict):
    """Either an explicit layer list or a named preset whose output layer fits the task."""

    layers: list[Layer] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_FORM_ITEMS,
        description="Layers in order, input first; the last one produces the output.",
    )
    preset: Preset | None = Field(
        default=None, description="dense: 512-512 hidden units; cnn: a small conv net."
    )
    activation: Activation | None = Field(
        default=None, description="Hidden-layer activation of a preset (default relu)."
    )
    negative_slope: Slope = None

    @model_validator(mode="after")
    def _one_form(self) -> ModelSpec:
        if (self.layers is None) == (self.preset is None):
            raise ValueError(
                'give exactly one of "layers" (a list of layers) or "preset" ("dense" or "cnn")'
            )
        if self.layers is not None and (self.activation or self.negative_slope) is not None:
            raise ValueError(
                '"activation" goes with a preset; in a layer list set it on each layer'
            )
        if self.negative_slope is not None and self.activation != "leaky_relu":
            raise ValueError('negative_slope goes with "activation": "leaky_relu"')
        return self


Accelerator = TypeAliasType("Accelerator", Literal["gpu", "cpu", "any"])
Precision = TypeAliasType("Precision", Literal["float32", "mixed_float16"])


class ResourcesSpec(_Strict):
    accelerator: Accelerator = Field(
        default="any",
        description="gpu: only a GPU worker takes it; cpu: only a CPU worker; any: the first free.",
    )


class JobSpec(_Strict):
    """A training job: data set, model, loss, optimizer and the loop's settings."""

    name: str | None = Field(default=None, max_length=200, description="Any label you like.")
    dataset: DatasetSpec
    task: Task | None = Field(
        default=None,
        description="classification (one of many classes), binary (yes/no: needs "
        "dataset.positive_classes on a many-class data set) or regression (numbers). "
        "Derived from the data set, positive_classes and loss when left out.",
    )
    model: ModelSpec
    loss: Loss | None = Field(
        default=None,
        description="Default: categorical_crossentropy (classification), binary_crossentropy "
        "(binary), mse (regression). The label encoding follows the loss.",
    )
    metrics: list[Metric] | None = Field(
        default=None,
        max_length=4,
        description="Default: accuracy for classification and binary; mse, rmse and mae "
        "(without the loss itself) for regression.",
    )
    optimizer: OptimizerSpec = Field(
        default_factory=lambda: Adam(name="adam"),
        description='A name ("sgd") or an object with Keras\' arguments ({"name": "sgd", '
        '"learning_rate": 0.1, "momentum": 0.9}); default {"name": "adam"}.',
    )
    epochs: int = Field(default=5, ge=1, description="Passes over the training rows.")
    batch_size: int = Field(default=32, ge=1, description="Rows per gradient step.")
    shuffle: bool = Field(default=True, description="Shuffle the training rows every epoch.")
    seed: int = Field(
        default=0,
        ge=0,
        le=2**31 - 1,
        description="Fixes initial weights, the validation split, shuffling and dropout.",
    )
    early_stopping: EarlyStoppingSpec | None = None
    reduce_on_plateau: ReduceOnPlateauSpec | None = Field(
        default=None, description="Needs a number as learning_rate, not a schedule."
    )
    augmentation: AugmentationSpec | None = Field(
        default=None, description="Random image changes while training (images only); off."
    )
    label_encoding: SkipJsonSchema[Any] = Field(default=None, exclude=True)
    resources: ResourcesSpec = Field(default_factory=ResourcesSpec)
    precision: Precision = Field(
        default="float32", description="mixed_float16 needs a GPU (resources.accelerator gpu)."
    )

    @model_validator(mode="after")
    def _mixed_precision_needs_a_gpu(self) -> JobSpec:
        if self.precision == "mixed_float16" and self.resources.accelerator != "gpu":
            raise ValueError(
                "precision mixed_float16 only speeds up training on a GPU, and this job may run "
                f"on a CPU (resources.accelerator is {self.resources.accelerator!r}); set "
                '"resources": {"accelerator": "gpu"} or use precision "float32"'
            )
        return self

    @field_validator(
        "optimizer",
        mode="before",
        json_schema_input_type=Union[OptimizerName, OptimizerSpec],  # noqa: UP007
    )
    @classmethod
    def _adam_by_default(cls, value: Any) -> Any:
        return default_name(value)

    @field_validator("optimizer")
    @classmethod
    def _one_clip(cls, optimizer: Any) -> Any:
        if optimizer.clipnorm is not None and optimizer.clipvalue is not None:
            raise ValueError(
                "give clipnorm (scale each gradient down to this norm) or clipvalue (cut each "
                "entry to ± this value), not both"
            )
        return optimizer

    @field_validator("metrics")
    @classmethod
    def _once_each(cls, metrics: list[str] | None) -> list[str] | None:
        if metrics is not None and len(set(metrics)) != len(metrics):
            raise ValueError(f"metrics {metrics} lists a metric twice; list each once")
        return metrics

    _storable_name = field_validator("name")(lambda name: storable(name))

    @field_validator("label_encoding")
    @classmethod
    def _derived(cls, value: Any) -> None:
        if value is not None:
            raise ValueError(
                "label_encoding is not a setting: it follows the loss (one_hot for "
                "categorical_crossentropy and the regression losses, integer for "
                "sparse_categorical_crossentropy, 0/1 for binary_crossentropy); remove it and "
                "choose the loss"
            )
        return None


# Union members named in error locations ("optimizer" -> "sgd" -> "momentum"); the API drops
# them so that a field reads "optimizer.momentum".
UNION_TAGS: dict[str, tuple[str, ...]] = {
    "layers": LAYER_TYPES,
    "optimizer": OPTIMIZERS,
    "learning_rate": ("number", *SCHEDULES),
    "kernel_initializer": INITIALIZERS,
    "bias_initializer": INITIALIZERS,
    "validation": ("choice", "fraction"),
}


def preset_layers(
    preset: Preset, activation: Activation, slope: float | None, output: DenseLayer
) -> list[Any]:
    hidden = {"activation": activation, "negative_slope": slope}
    if preset == "dense":
        return [
            FlattenLayer(type="flatten"),
            DenseLayer(type="dense", units=512, **hidden),
            DenseLayer(type="dense", units=512, **hidden),
            output,
        ]
    return [
        Conv2DLayer(type="conv2d", filters=32, kernel_size=(3, 3), **hidden),
        MaxPool2DLayer(type="max_pool2d", pool_size=(2, 2)),
        Conv2DLayer(type="conv2d", filters=64, kernel_size=(3, 3), **hidden),
        MaxPool2DLayer(type="max_pool2d", pool_size=(2, 2)),
        FlattenLayer(type="flatten"),
        DropoutLayer(type="dropout", rate=0.25),
        DenseLayer(type="dense", units=128, **hidden),
        output,
    ]
