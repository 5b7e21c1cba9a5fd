"""What every layer kind has: its spec fields, shape rule, parameter count, builder and advice.

A kind is one subclass of ``Layer`` with a ``type`` literal; defining it registers it (see
``training.layers``). The builder receives the Keras toolkit from ``training.keras.builders``,
so this half imports no TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from pydantic import ValidationInfo, field_validator

from training.layer_specs import Strict
from training.problems import SpecWarning
from training.vocabulary import DEFAULT_NEGATIVE_SLOPE

Shape = tuple[int, ...]


@dataclass(frozen=True)
class Params:
    """A layer's parameters as Keras counts them (``layer.count_params()``)."""

    weights: int = 0  # kernel entries (batch norm: its scale, gamma)
    biases: int = 0  # bias entries (batch norm: its shift, beta)
    params: int = 0  # everything Keras stores for the layer
    trainable: int = 0

    @classmethod
    def trained(cls, weights: int, biases: int) -> Params:
        return cls(weights, biases, weights + biases, weights + biases)


@dataclass(frozen=True)
class Where:
    """Where a layer sits, for its shape rule's messages."""

    field: str  # "model.layers[2]"
    flattened: bool  # a flatten layer came before this one
    input_shape: Shape  # the model's input


class Toolkit(Protocol):
    """What ``Layer.build`` receives: Keras' layers module and the spec-to-Keras helpers."""

    layers: Any

    def initializer(self, spec: Any) -> Any: ...
    def regularizer(self, spec: Any) -> Any: ...
    def activation(self, name: str | None) -> Any: ...


KINDS: dict[str, type[Layer]] = {}


class Layer(Strict):
    """One layer kind. Subclasses declare ``type: Literal["name"]`` and their fields."""

    # Shown in the page's form beside the type name, e.g. "convolution".
    summary: ClassVar[str] = ""
    # The fields the page's form offers; the rest keep their defaults there.
    form: ClassVar[tuple[str, ...]] = ()
    # Whether the layer multiplies by a kernel (dense, conv2d): stacked without an activation,
    # such layers are one linear function.
    weighted: ClassVar[bool] = False
    flattens: ClassVar[bool] = False

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        field = cls.model_fields.get("type")
        kind = getattr(field.annotation, "__args__", (None,))[0] if field else None
        if isinstance(kind, str):
            KINDS[kind] = cls

    def output_shape(self, shape: Shape, where: Where) -> Shape:
        """The shape this layer makes of ``shape``; SpecError when it cannot take it."""
        return shape

    def count_params(self, shape: Shape) -> Params:
        """The parameters this layer holds when given ``shape``."""
        return Params()

    def build(self, keras: Toolkit, name: str) -> list[Any]:
        """The Keras layers for this spec layer, the first named ``name``."""
        raise NotImplementedError(f"{type(self).__name__} has no builder")

    def advise(self, field: str) -> list[SpecWarning]:
        """Warnings about this layer alone (the stack's are in ``training.advice``)."""
        return []

    # Shared by the kinds that have these fields.
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


def with_activation(layer: Any, keras: Toolkit, built: Any, name: str) -> list[Any]:
    """``built``, then a LeakyReLU with the spec's slope when the activation is leaky_relu."""
    if getattr(layer, "activation", None) != "leaky_relu":
        return [built]
    slope = keras.layers.LeakyReLU(negative_slope=layer.negative_slope, name=f"{name}_leaky")
    return [built, slope]


def weight_arguments(layer: Any, keras: Toolkit) -> dict[str, Any]:
    """Keras' arguments for a weighted layer's bias, initializers and regularizers."""
    return {
        "use_bias": layer.use_bias,
        "kernel_initializer": keras.initializer(layer.kernel_initializer),
        "bias_initializer": keras.initializer(layer.bias_initializer),
        "kernel_regularizer": keras.regularizer(layer.kernel_regularizer),
        "bias_regularizer": keras.regularizer(layer.bias_regularizer),
    }
