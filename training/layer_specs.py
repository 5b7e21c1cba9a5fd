"""The layers a model may be made of, with their initializers and regularizers. No TensorFlow.

Field names and defaults follow Keras (``keras.layers.Dense`` and friends), so a Keras user
can write what they already know: ``{"type": "dense", "units": 64, "activation": "relu",
"kernel_initializer": "he_normal", "kernel_regularizer": {"l2": 0.001}}``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationInfo,
    field_validator,
    model_validator,
)

from training.vocabulary import DEFAULT_NEGATIVE_SLOPE, Activation


class Strict(BaseModel):
    # A misspelt field is refused rather than silently ignored.
    model_config = ConfigDict(extra="forbid")


# --- initializers -------------------------------------------------------------------------

SIMPLE_INITIALIZERS = (
    "glorot_uniform",
    "glorot_normal",
    "he_normal",
    "he_uniform",
    "lecun_normal",
    "lecun_uniform",
    "orthogonal",
    "zeros",
    "ones",
)


class ConstantInitializer(Strict):
    name: Literal["constant"]
    value: float = Field(default=0.0, description="Every weight starts at this value.")


class RandomNormalInitializer(Strict):
    name: Literal["random_normal", "truncated_normal"]
    mean: float = 0.0
    stddev: float = Field(default=0.05, gt=0, description="Standard deviation of the draw.")


class RandomUniformInitializer(Strict):
    name: Literal["random_uniform"]
    minval: float = -0.05
    maxval: float = 0.05

    @model_validator(mode="after")
    def _ordered(self) -> RandomUniformInitializer:
        if self.minval >= self.maxval:
            raise ValueError(
                f"minval ({self.minval}) must be below maxval ({self.maxval}); swap them"
            )
        return self


PARAMETRIC_INITIALIZERS = ("constant", "random_normal", "truncated_normal", "random_uniform")
INITIALIZERS = (*SIMPLE_INITIALIZERS, *PARAMETRIC_INITIALIZERS)


def _initializer_tag(value: Any) -> str | None:
    name = value if isinstance(value, str) else getattr(value, "name", None)
    if isinstance(value, dict):
        name = value.get("name")
    return name if isinstance(name, str) else None


def _plain_initializer(value: Any) -> Any:
    # {"name": "he_normal"} is the same as "he_normal".
    if isinstance(value, dict) and set(value) == {"name"} and value["name"] in SIMPLE_INITIALIZERS:
        return value["name"]
    return value


_initializer_members = tuple(Annotated[Literal[n], Tag(n)] for n in SIMPLE_INITIALIZERS) + (  # type: ignore[valid-type]
    Annotated[ConstantInitializer, Tag("constant")],
    Annotated[RandomNormalInitializer, Tag("random_normal")],
    Annotated[RandomNormalInitializer, Tag("truncated_normal")],
    Annotated[RandomUniformInitializer, Tag("random_uniform")],
)
Initializer = Annotated[
    Union[_initializer_members],  # type: ignore[valid-type]  # noqa: UP007
    Discriminator(_initializer_tag),
    BeforeValidator(_plain_initializer),
    Field(
        description='A name ("glorot_uniform", "he_normal", "zeros", "ones", ...) or an object '
        'with arguments: {"name": "constant", "value": 0.1}, {"name": "random_normal", '
        '"mean": 0, "stddev": 0.05}, {"name": "random_uniform", "minval": -0.05, "maxval": 0.05}.'
    ),
]

# --- regularizers -------------------------------------------------------------------------

DEFAULT_REGULARIZATION = 0.01  # Keras' default factor for L1 and L2


class Regularizer(Strict):
    """Adds ``l1 * sum(|w|) + l2 * sum(w²)`` to the loss."""

    l1: float = Field(default=0.0, ge=0, description="L1 factor (sum of absolute weights).")
    l2: float = Field(default=0.0, ge=0, description="L2 factor (sum of squared weights).")

    @model_validator(mode="after")
    def _something(self) -> Regularizer:
        if self.l1 == 0 and self.l2 == 0:
            raise ValueError('give "l1" or "l2" a factor above 0, e.g. {"l2": 0.01}, or omit it')
        return self


def _named_regularizer(value: Any) -> Any:
    # Keras accepts "l1", "l2" and "l1_l2" with a factor of 0.01.
    names = {"l1": ("l1",), "l2": ("l2",), "l1_l2": ("l1", "l2")}
    if isinstance(value, str):
        if value not in names:
            raise ValueError(
                f"{value!r} is not a regularizer; use 'l1', 'l2', 'l1_l2' or factors such as "
                '{"l2": 0.001}'
            )
        return {key: DEFAULT_REGULARIZATION for key in names[value]}
    return value


RegularizerField = Annotated[
    Regularizer | None,
    BeforeValidator(_named_regularizer),
    Field(description='{"l1": f, "l2": f}, or "l1" / "l2" / "l1_l2" for a factor of 0.01.'),
]

# --- layers -------------------------------------------------------------------------------


def _pair(value: Any) -> Any:
    return (value, value) if isinstance(value, int) and not isinstance(value, bool) else value


Size = Annotated[int, Field(ge=1, le=4_096)]
Pair = Annotated[tuple[Size, Size], BeforeValidator(_pair)]
ActivationField = Annotated[
    Activation,
    Field(description="The function applied to the layer's outputs (linear means none)."),
]
Slope = Annotated[
    float | None,
    Field(ge=0, lt=1, description="Slope for negative inputs; only with leaky_relu (default 0.2)."),
]
UseBias = Annotated[bool, Field(description="Whether the layer adds a bias b to w·x.")]
Padding = Annotated[
    Literal["valid", "same"],
    Field(description='"valid": no padding (the image shrinks); "same": keeps height and width.'),
]


class LayerBase(Strict):
    @field_validator("bias_initializer", mode="after", check_fields=False)
    @classmethod
    def _bias_is_a_vector(cls, value: Any) -> Any:
        if value == "orthogonal":
            raise ValueError(
                "orthogonal needs a matrix, and a bias is a vector; use it as "
                'kernel_initializer and keep "zeros" (or a constant) for the bias'
            )
        return value

    @field_validator("negative_slope", mode="after", check_fields=False)
    @classmethod
    def _slope_goes_with_leaky_relu(cls, slope: float | None, info: ValidationInfo) -> float | None:
        activation = info.data.get("activation")
        if activation == "leaky_relu":
            return DEFAULT_NEGATIVE_SLOPE if slope is None else slope
        if slope is not None:
            raise ValueError(
                f'negative_slope only applies to "leaky_relu", but the activation is '
                f'{activation!r}; remove negative_slope or set "activation": "leaky_relu"'
            )
        return slope


class FlattenLayer(LayerBase):
    type: Literal["flatten"]


class DenseLayer(LayerBase):
    type: Literal["dense"]
    units: int = Field(ge=1, le=65_536, description="Number of neurons, i.e. outputs.")
    activation: ActivationField = "linear"
    negative_slope: Slope = Field(default=None, validate_default=True)
    use_bias: UseBias = True
    kernel_initializer: Initializer = "glorot_uniform"
    bias_initializer: Initializer = "zeros"
    kernel_regularizer: RegularizerField = None
    bias_regularizer: RegularizerField = None


class Conv2DLayer(LayerBase):
    type: Literal["conv2d"]
    filters: int = Field(ge=1, le=4_096, description="Number of filters, i.e. output channels.")
    kernel_size: Pair = Field(description="Window height and width: 3 or [3, 3].")
    strides: Pair = Field(default=(1, 1), description="Step of the window: 1 or [1, 1].")
    padding: Padding = "valid"
    activation: ActivationField = "linear"
    negative_slope: Slope = Field(default=None, validate_default=True)
    use_bias: UseBias = True
    kernel_initializer: Initializer = "glorot_uniform"
    bias_initializer: Initializer = "zeros"
    kernel_regularizer: RegularizerField = None
    bias_regularizer: RegularizerField = None


class MaxPool2DLayer(LayerBase):
    type: Literal["max_pool2d"]
    pool_size: Pair = Field(default=(2, 2), description="Window height and width: 2 or [2, 2].")
    strides: Pair | None = Field(default=None, description="Step of the window; default pool_size.")
    padding: Padding = "valid"


class AvgPool2DLayer(LayerBase):
    type: Literal["avg_pool2d"]
    pool_size: Pair = Field(default=(2, 2), description="Window height and width: 2 or [2, 2].")
    strides: Pair | None = Field(default=None, description="Step of the window; default pool_size.")
    padding: Padding = "valid"


class GlobalAvgPool2DLayer(LayerBase):
    type: Literal["global_avg_pool2d"]


class ReshapeLayer(LayerBase):
    type: Literal["reshape"]
    target_shape: list[int] = Field(
        min_length=1,
        max_length=3,
        description="The new shape without the batch axis, e.g. [28, 28, 1]; one -1 is inferred.",
    )

    @field_validator("target_shape")
    @classmethod
    def _sizes(cls, shape: list[int]) -> list[int]:
        if any(size == 0 or size < -1 for size in shape) or shape.count(-1) > 1:
            raise ValueError(
                f"target_shape {shape} must hold sizes of at least 1 and at most one -1 "
                "(inferred), e.g. [28, 28, 1]"
            )
        return shape


class DropoutLayer(LayerBase):
    type: Literal["dropout"]
    rate: float = Field(ge=0, lt=1, description="Share of inputs set to 0 at each training step.")


class BatchNormLayer(LayerBase):
    type: Literal["batch_norm"]
    momentum: float = Field(default=0.99, gt=0, lt=1, description="Moving-average momentum.")
    epsilon: float = Field(default=0.001, gt=0, description="Added to the variance.")


class ActivationLayer(LayerBase):
    type: Literal["activation"]
    activation: ActivationField
    negative_slope: Slope = Field(default=None, validate_default=True)


AnyLayer = (
    FlattenLayer
    | DenseLayer
    | Conv2DLayer
    | MaxPool2DLayer
    | AvgPool2DLayer
    | GlobalAvgPool2DLayer
    | ReshapeLayer
    | DropoutLayer
    | BatchNormLayer
    | ActivationLayer
)
LayerSpec = Annotated[AnyLayer, Field(discriminator="type")]
LAYER_TYPES: tuple[str, ...] = (
    "dense",
    "conv2d",
    "max_pool2d",
    "avg_pool2d",
    "global_avg_pool2d",
    "flatten",
    "reshape",
    "dropout",
    "batch_norm",
    "activation",
)
# Layers whose outputs pass through an activation function.
ACTIVATED = (DenseLayer, Conv2DLayer, ActivationLayer)
