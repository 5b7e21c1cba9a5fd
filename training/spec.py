"""The job spec: what to train, validated before anything is queued. Imports no TensorFlow.

Everything a spec implies is derived here rather than asked twice: the output layer of a
preset fits the data set, the label encoding follows the loss, and the shapes of a layer list
are checked against the data set's input so that a spec that cannot train is refused with a
message that says how to fix it.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from training.datasets import DATASETS, DatasetInfo

Activation = Literal["linear", "relu", "sigmoid", "tanh", "softmax"]
Loss = Literal["mse", "categorical_crossentropy", "sparse_categorical_crossentropy"]
OptimizerName = Literal["sgd", "adam", "adagrad", "rmsprop"]
DatasetName = Literal["mnist", "asl"]
Preset = Literal["dense", "cnn"]

CROSSENTROPY_LOSSES = {"categorical_crossentropy", "sparse_categorical_crossentropy"}


class _Strict(BaseModel):
    # A misspelt field is refused rather than silently ignored.
    model_config = ConfigDict(extra="forbid")


class ValidationFraction(_Strict):
    fraction: float = Field(gt=0, lt=1, description="Share of the training rows held out.")


class DatasetSpec(_Strict):
    name: DatasetName = Field(description="A built-in data set: mnist or asl.")
    validation: Literal["test"] | ValidationFraction = Field(
        default="test",
        description='"test" validates on the test split; {"fraction": f} holds out part of train.',
    )
    limit: int | None = Field(
        default=None, ge=1, description="Train on the first N training rows only (quick runs)."
    )


class FlattenLayer(_Strict):
    type: Literal["flatten"]


class DenseLayer(_Strict):
    type: Literal["dense"]
    units: int = Field(ge=1, le=16_384)
    activation: Activation = "linear"


class Conv2DLayer(_Strict):
    type: Literal["conv2d"]
    filters: int = Field(ge=1, le=4_096)
    kernel_size: int = Field(ge=1, le=28)
    activation: Activation = "linear"
    padding: Literal["valid", "same"] = "valid"


class MaxPool2DLayer(_Strict):
    type: Literal["max_pool2d"]
    pool_size: int = Field(default=2, ge=1, le=28)


class DropoutLayer(_Strict):
    type: Literal["dropout"]
    rate: float = Field(ge=0, lt=1)


LAYER_TYPES = frozenset({"flatten", "dense", "conv2d", "max_pool2d", "dropout"})

Layer = Annotated[
    FlattenLayer | DenseLayer | Conv2DLayer | MaxPool2DLayer | DropoutLayer,
    Field(discriminator="type"),
]


class ModelSpec(_Strict):
    """Either an explicit layer list or a named preset whose output layer fits the data set."""

    layers: list[Layer] | None = Field(default=None, min_length=1, max_length=64)
    preset: Preset | None = Field(
        default=None, description="dense: 512-512 hidden units; cnn: a small conv net."
    )
    activation: Activation | None = Field(
        default=None, description="Hidden-layer activation of a preset (default relu)."
    )

    @model_validator(mode="after")
    def _one_form(self) -> ModelSpec:
        if (self.layers is None) == (self.preset is None):
            raise ValueError(
                'give exactly one of "layers" (a list of layers) or "preset" ("dense" or "cnn")'
            )
        if self.layers is not None and self.activation is not None:
            raise ValueError(
                '"activation" goes with a preset; in a layer list set it on each layer'
            )
        return self


class OptimizerSpec(_Strict):
    name: OptimizerName = "adam"
    learning_rate: float = Field(default=0.001, gt=0, le=10)


class ResourcesSpec(_Strict):
    accelerator: Literal["gpu", "cpu", "any"] = Field(
        default="any",
        description="gpu: only a GPU worker takes it; cpu: only a CPU worker; any: the first free.",
    )


class JobSpec(_Strict):
    """A training job: data set, model, loss, optimizer and the loop's settings."""

    name: str | None = Field(default=None, max_length=200)
    dataset: DatasetSpec
    model: ModelSpec
    loss: Loss = Field(default="categorical_crossentropy", validate_default=True)
    optimizer: OptimizerSpec = Field(default_factory=OptimizerSpec)
    epochs: int = Field(default=5, ge=1, le=1_000)
    batch_size: int = Field(default=32, ge=1, le=65_536)
    seed: int = Field(default=0, ge=0, le=2**31 - 1)
    resources: ResourcesSpec = Field(default_factory=ResourcesSpec)
    precision: Literal["float32", "mixed_float16"] = Field(
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

    @field_validator("model")
    @classmethod
    def _model_fits_dataset(cls, model: ModelSpec, info: ValidationInfo) -> ModelSpec:
        dataset: DatasetSpec | None = info.data.get("dataset")
        if dataset is not None and model.layers is not None:
            check_layers(model.layers, DATASETS[dataset.name])
        return model

    @field_validator("loss")
    @classmethod
    def _loss_fits_output(cls, loss: str, info: ValidationInfo) -> str:
        model: ModelSpec | None = info.data.get("model")
        if model is None or model.layers is None or loss not in CROSSENTROPY_LOSSES:
            return loss
        last = model.layers[-1]
        if isinstance(last, DenseLayer) and last.activation != "softmax":
            raise ValueError(
                f"{loss} expects class probabilities, but the output layer's activation is "
                f'{last.activation!r}; set the last dense layer\'s "activation" to "softmax"'
            )
        return loss

    @property
    def info(self) -> DatasetInfo:
        return DATASETS[self.dataset.name]

    @property
    def label_encoding(self) -> Literal["one_hot", "integer"]:
        """Sparse cross-entropy takes class indices; the other losses take one-hot rows."""
        return "integer" if self.loss == "sparse_categorical_crossentropy" else "one_hot"

    def resolved_layers(self) -> list[Layer]:
        """The full layer list, presets expanded, ending in the data set's output layer."""
        if self.model.layers is not None:
            return list(self.model.layers)
        return preset_layers(
            self.model.preset or "dense", self.model.activation or "relu", self.info
        )


def preset_layers(preset: Preset, activation: Activation, info: DatasetInfo) -> list[Any]:
    output = DenseLayer(type="dense", units=info.num_classes, activation="softmax")
    if preset == "dense":
        return [
            FlattenLayer(type="flatten"),
            DenseLayer(type="dense", units=512, activation=activation),
            DenseLayer(type="dense", units=512, activation=activation),
            output,
        ]
    return [
        Conv2DLayer(type="conv2d", filters=32, kernel_size=3, activation=activation),
        MaxPool2DLayer(type="max_pool2d", pool_size=2),
        Conv2DLayer(type="conv2d", filters=64, kernel_size=3, activation=activation),
        MaxPool2DLayer(type="max_pool2d", pool_size=2),
        FlattenLayer(type="flatten"),
        DropoutLayer(type="dropout", rate=0.25),
        DenseLayer(type="dense", units=128, activation=activation),
        output,
    ]


def check_layers(layers: list[Any], info: DatasetInfo) -> None:
    """Follow the tensor's shape through the layers; refuse what Keras could not build or fit."""
    shape: tuple[int, ...] = info.input_shape
    for index, layer in enumerate(layers):
        where = f"layers[{index}] ({layer.type})"
        if isinstance(layer, FlattenLayer):
            shape = (math.prod(shape),)
        elif isinstance(layer, DenseLayer):
            shape = (*shape[:-1], layer.units)
        elif isinstance(layer, Conv2DLayer | MaxPool2DLayer):
            if len(shape) != 3:
                raise ValueError(
                    f"{where} needs an image (height, width, channels) but gets shape {shape}; "
                    "put convolution and pooling layers before the flatten layer"
                )
            window = layer.kernel_size if isinstance(layer, Conv2DLayer) else layer.pool_size
            height, width, channels = shape
            if isinstance(layer, Conv2DLayer):
                if layer.padding == "valid":
                    height, width = height - window + 1, width - window + 1
                channels = layer.filters
            else:
                height, width = height // window, width // window
            if height < 1 or width < 1:
                raise ValueError(
                    f"{where} with window {window} shrinks the image below 1x1 (input "
                    f"{shape[0]}x{shape[1]}); use a smaller kernel_size/pool_size, "
                    'padding "same", or fewer layers'
                )
            shape = (height, width, channels)
    if len(shape) != 1:
        raise ValueError(
            f"the model's output has shape {shape}, but {info.name} needs one vector of "
            f"{info.num_classes} class scores; add a flatten layer before the first dense layer"
        )
    last = layers[-1]
    if not isinstance(last, DenseLayer) or last.units != info.num_classes:
        raise ValueError(
            f"the last layer must be a dense layer with {info.num_classes} units, one per class "
            f"of {info.name}; it is {last.type}"
            + (f" with {last.units} units" if isinstance(last, DenseLayer) else "")
        )
